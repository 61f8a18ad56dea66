import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../config/config.ts";

/**
 * HTTPS mode for one request (SPEC "Sessions"): FAMOS_PUBLIC_URL is https:, or the request came over
 * TLS, or a proxy trusted by FAMOS_TRUST_PROXY said X-Forwarded-Proto: https (Fastify only reads the
 * header from trusted addresses). Decided per request, so a TLS-terminating proxy in front of a FAMOS
 * whose public URL was left at its http default still gets Secure, prefixed cookies and HSTS.
 */
export function requestIsHttps(config: Readonly<Config>, request: FastifyRequest): boolean {
  return config.https || request.protocol === "https";
}

/**
 * HSTS on every answer given over HTTPS (ASVS 14.4.5), never over plain HTTP where browsers ignore
 * it (RFC 6797 §7.2). A year, subdomains included; preload is the operator's own decision.
 */
export function registerHsts(app: FastifyInstance, config: Readonly<Config>): void {
  app.addHook("onSend", (request, reply, payload, done) => {
    if (requestIsHttps(config, request)) reply.header("strict-transport-security", "max-age=31536000; includeSubDomains");
    done(null, payload);
  });
}
