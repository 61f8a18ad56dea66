import type { FastifyInstance } from "fastify";
import type { Deps } from "../app/deps.ts";

/**
 * A proxy left out of FAMOS_TRUST_PROXY makes every user one address: the address's lock and request
 * limit then count the whole user base together (issue 10.4). Fastify takes the client address from
 * X-Forwarded-For only for a trusted peer, so a request that carries the header from a peer it did not
 * trust came through an untrusted proxy. Said once per process, naming the setting.
 */
export function registerForwardedWarning(app: FastifyInstance, deps: Deps): void {
  let warned = false;
  app.addHook("onRequest", (request, _reply, done) => {
    // Fastify's ips lists the peer and, only when the peer is trusted, the addresses it forwarded; the
    // client address alone cannot tell, as a client on the proxy's own host has the proxy's address.
    const peerTrusted = (request.ips?.length ?? 0) > 1;
    if (!warned && request.headers["x-forwarded-for"] !== undefined && !peerTrusted) {
      warned = true;
      deps.logger.warn(
        { peer: request.ip },
        `Forwarded headers (X-Forwarded-For) arrive from ${request.ip}, which FAMOS_TRUST_PROXY does not trust: every user behind that proxy counts as one address. Set FAMOS_TRUST_PROXY to the proxy's address.`,
      );
    }
    done();
  });
}
