import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Server as NetServer, type Socket } from "node:net";

/**
 * The drain's quiet interval. The listening socket closes once no new connection arrived for this long,
 * and each open connection once it has had no request for this long (counted from its own last request,
 * or from when it was accepted).
 */
export const DRAIN_QUIET_MS = 2000;

/**
 * The drain's bound: however often a proxy still connects, the listening socket closes and the
 * connections still idle are closed this long after the drain began (the rest close on their answer).
 * Well within shutdown's 25 s, which the database, mail and Redis still need after it.
 */
export const DRAIN_LIMIT_MS = 10_000;

interface Use {
  /** Date.now() of the connection's last request, or of its accept while it has had none. */
  at: number;
  /** That request's answer: the connection is busy until it is sent. */
  answer?: ServerResponse;
}

interface Tracked {
  connections: Set<Socket>;
  uses: WeakMap<Socket, Use>;
  /** Date.now() of the last connection accepted (0: none yet): the drain's "no new connection for quietMs". */
  lastAccept: number;
  /** Requests begun since the start: the idle collection's "no request since the last look" (idle-collection.ts). */
  requests: number;
  /** Called on each connection's close while a drain runs. */
  onClose?: () => void;
}

const tracked = new WeakMap<Server, Tracked>();

/** An upgrade (a proxied WebSocket) took the connection over: Node took its HTTP parser away. */
function takenOver(socket: Socket): boolean {
  return (socket as { parser?: unknown }).parser === null;
}
const draining = new WeakSet<Server>();

/**
 * Keeps, for each connection of `server`, when its last request came: what the drain's "unused for
 * DRAIN_QUIET_MS" is counted from, and when the last connection was accepted (the listening socket's
 * quiet interval). Two listeners with a Map write each, nothing asynchronous. Called once, before the
 * server listens (buildApp); drainConnections tracks a server not tracked before from its start.
 */
export function trackConnections(server: Server): void {
  if (tracked.has(server)) return;
  const state: Tracked = { connections: new Set(), uses: new WeakMap(), lastAccept: 0, requests: 0 };
  tracked.set(server, state);
  // The one accept stamp: each connection's first "last use", and the drain's last new connection.
  server.on("connection", (socket: Socket) => {
    const at = Date.now();
    state.lastAccept = at;
    state.connections.add(socket);
    state.uses.set(socket, { at });
    socket.once("close", () => {
      state.connections.delete(socket);
      state.onClose?.();
    });
  });
  server.on("request", (request: IncomingMessage, answer: ServerResponse) => {
    state.requests++;
    const use = state.uses.get(request.socket);
    if (use === undefined) return;
    use.at = Date.now();
    use.answer = answer;
  });
}

/** A request whose answer is not yet all sent, on a connection still open. */
function answering(state: Tracked, socket: Socket): boolean {
  const answer = state.uses.get(socket)?.answer;
  return answer !== undefined && !answer.writableFinished;
}

/**
 * What the idle collection reads of a tracked server (trackConnections), when it looks: the count of
 * requests begun, and whether one is still being answered. Nothing is kept per request for it.
 */
export function requestActivity(server: Server): { requests(): number; inFlight(): boolean } {
  trackConnections(server);
  const state = tracked.get(server)!;
  return {
    requests: () => state.requests,
    inFlight: () => [...state.connections].some((socket) => answering(state, socket)),
  };
}

/**
 * A stop began: /readyz answers 503 "stopping" from now on. Called at the signal itself, not only when
 * the drain starts: a stop that arrives while the start's last steps still run (after the port opened)
 * drains only once they are done, and until then a balancer's probe was answered "ready".
 */
export function markStopping(server: Server): void {
  draining.add(server);
}

/** True once a stop began (`markStopping`, `drainConnections`): /readyz answers 503 "stopping". */
export function isDraining(server: Server): boolean {
  return draining.has(server);
}

/**
 * True once the drain closed the listening socket: every answer then closes its connection, so the
 * proxy sends its next requests to another instance (its connect to this one is refused, and a refused
 * connect it retries, POST or not). Not before: a proxy whose kept-alive connections close under it
 * opens new ones, and the listening socket could not close without resetting those still in the
 * kernel's queue.
 */
export function closesConnections(server: Server): boolean {
  return draining.has(server) && !server.listening;
}

/**
 * The first step of a graceful stop. Readiness says "stopping", but the listening socket stays open and
 * every request is served as before, on the connections kept alive and on new ones, until the proxy
 * needs no new connection: the listening socket closes once none arrived for `quietMs` (or at
 * `limitMs`), and from then on every answer closes its connection. Closing it at once reset every connection the kernel had
 * completed and the server not yet taken from its queue (a busy event loop leaves some there), and a
 * proxy that had sent a POST on one answered 502 (nginx never sends a POST twice). Closed with nothing
 * in that queue (no connection for `quietMs`), nothing is reset.
 *
 * A connection idle for `quietMs` since its own last request is closed (the proxy's spare one: nginx
 * takes the most recently used first). Resolves once the listening socket and every connection are
 * closed, or at `limitMs`; Fastify's close then ends what is left (idle connections at once, busy ones
 * after their answer).
 *
 * Node's http `server.close()` cannot be used for this: it also closes every connection idle at that
 * instant. The listening socket is closed through net.Server's close, which leaves the connections alone.
 */
export function drainConnections(server: Server, { quietMs = DRAIN_QUIET_MS, limitMs = DRAIN_LIMIT_MS } = {}): Promise<void> {
  markStopping(server);
  if (!server.listening && (tracked.get(server)?.connections.size ?? 0) === 0) return Promise.resolve();
  trackConnections(server);
  const state = tracked.get(server)!;
  const started = Date.now();
  // The last new connection, not before the drain began (trackConnections' accept stamp).
  const lastConnection = () => Math.max(started, state.lastAccept);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    // Ended: a check a connection's close asked for just before the bound (it runs on the next turn)
    // must not set its timer again, which ran on after the stop and kept the process alive.
    let ended = false;
    const closeListener = () => {
      if (server.listening) NetServer.prototype.close.call(server);
    };
    const finish = () => {
      ended = true;
      clearTimeout(timer);
      clearTimeout(limit);
      state.onClose = undefined;
      closeListener();
      resolve();
    };
    const limit = setTimeout(finish, limitMs);
    const check = () => {
      if (ended) return;
      clearTimeout(timer);
      const now = Date.now();
      let next = Number.POSITIVE_INFINITY;
      if (server.listening) {
        if (now - lastConnection() >= quietMs) closeListener();
        else next = lastConnection() + quietMs;
      }
      for (const socket of state.connections) {
        const use = state.uses.get(socket);
        // A request in flight: its answer closes the connection. A connection an upgrade took over
        // (a proxied WebSocket; Node took its HTTP parser away) is its owner's to close, with a frame.
        if (use === undefined || answering(state, socket) || takenOver(socket)) continue;
        // Not before the drain began: a connection left as it was is at least quietMs unused then.
        const since = Math.max(use.at, started);
        if (now - since >= quietMs) socket.destroy();
        else next = Math.min(next, since + quietMs);
      }
      const open = [...state.connections].filter((socket) => !takenOver(socket));
      if (!server.listening && open.length === 0) return finish();
      timer = setTimeout(check, Number.isFinite(next) ? Math.max(1, next - now) : quietMs);
    };
    state.onClose = () => setImmediate(check);
    check();
  });
}
