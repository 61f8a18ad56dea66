import type { Server } from "node:http";
import { Server as NetServer } from "node:net";

/**
 * How long a stopping instance leaves the connections kept alive to it open, serving what comes on
 * them. A proxy (nginx's upstream `keepalive`) may send its next request on one at any moment: once it
 * has, the request is on its way, and closing the connection under it drops it (nginx never sends a
 * POST twice: its client gets 502). Each answer in this time closes its connection, so the proxy takes
 * them out one by one as it uses them; under steady traffic all are gone well within it. Those left
 * after it saw no request for this long: they are the proxy's spare ones, closed then.
 */
export const DRAIN_QUIET_MS = 2000;

const draining = new WeakSet<Server>();

/**
 * True from the start of `drainConnections`: every answer then closes its connection, and /readyz
 * answers 503 "stopping" (a probe on a kept-alive connection is still served; a new one is refused).
 */
export function isDraining(server: Server): boolean {
  return draining.has(server);
}

/**
 * The first step of a graceful stop: no new connections (a proxy's connect is refused, so it sends that
 * request to another instance), while the requests on those already open are served as usual, each
 * answer closing its connection. Resolves once every connection has closed, or after `quietMs`,
 * whichever is first; Fastify's close then ends what is left (idle connections at once, busy ones after
 * their answer).
 *
 * Node's http `server.close()` cannot be used for this: it also closes every connection idle at that
 * instant (Node 19 and later), the one whose next request is already on its way among them. The
 * listening socket is closed through net.Server's close, which leaves the connections alone.
 */
export function drainConnections(server: Server, quietMs = DRAIN_QUIET_MS): Promise<void> {
  draining.add(server);
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, quietMs);
    NetServer.prototype.close.call(server, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
