import Tokens from "@fastify/csrf";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/config.ts";
import type { Random } from "../platform/random.ts";
import { HttpProblem } from "./errors.ts";
import { requestIsHttps } from "./https.ts";
import { securityCookie, securityCookieName } from "./security-cookie.ts";

declare module "fastify" {
  interface FastifyReply {
    /** The CSRF token for the forms of this page (its secret lives in a signed, HttpOnly cookie). */
    generateCsrf(): string;
  }
  interface FastifyContextConfig {
    /**
     * false only for a route whose requests FAMOS passes on to another application with its own
     * forms (the protected sections): FAMOS's token cannot be in them. The Origin check still applies.
     */
    csrf?: false;
  }
}

const tokens = Tokens();
/** As @fastify/csrf's secretSync makes them. */
const SECRET_BYTES = 18;
const secrets = new WeakMap<FastifyRequest, string>();

/** Under HTTPS the __Host- prefix keeps a sibling host from planting its own secret (RFC 6265bis §4.1.3.2). */
export function csrfCookieName(https: boolean): string {
  return securityCookieName("famos_csrf", https);
}

export const CSRF_REFUSED = "This form has expired or did not come from FAMOS. Go back, reload the page and try again.";

/**
 * Synchronizer tokens for every form (ASVS 4.2.2, OWASP CSRF cheat sheet "signed double submit"):
 * the secret sits in a signed HttpOnly cookie, each page carries a salted token made from it, and
 * every state-changing request must send one back in `_csrf`. Built on @fastify/csrf's token
 * functions; the cookie is named per request so HTTPS through a trusted proxy gets the prefix.
 */
export function registerCsrf(app: FastifyInstance, config: Readonly<Config>, random: Random): void {
  app.decorateReply("generateCsrf", function generateCsrf(this: FastifyReply): string {
    const secret = secrets.get(this.request) ?? readSecret(this.request, config) ?? rotateCsrfSecret(this, config, random);
    secrets.set(this.request, secret);
    return tokens.create(secret);
  });
}

/**
 * A new secret in the cookie, and for the tokens of the page this reply renders. Called for a new
 * visitor, and each time a session token is issued (setSessionCookie): OWASP's CSRF cheat sheet asks
 * that anti-CSRF secrets be regenerated on authentication, so a secret planted or read before
 * sign-in is worth nothing after it.
 */
export function rotateCsrfSecret(reply: FastifyReply, config: Readonly<Config>, random: Random): string {
  // @fastify/csrf's secret (18 random bytes, base64url) from the pooled random source: its own
  // secretSync calls into the CSPRNG for each new visitor (issue 17).
  const secret = random.bytes(SECRET_BYTES).toString("base64url");
  const https = requestIsHttps(config, reply.request);
  reply.setCookie(csrfCookieName(https), secret, { path: "/", httpOnly: true, sameSite: "lax", secure: https, signed: true });
  secrets.set(reply.request, secret);
  return secret;
}

/** Throws 403 unless the request carries a token made from its own cookie's secret. */
export function verifyCsrf(request: FastifyRequest, config: Readonly<Config>): void {
  const secret = readSecret(request, config);
  const body = request.body as Record<string, unknown> | null | undefined;
  const token = body && typeof body === "object" ? body._csrf : undefined;
  if (!secret || typeof token !== "string" || token.length > 200 || !tokens.verify(secret, token)) {
    throw new HttpProblem(403, CSRF_REFUSED);
  }
  // A page this request renders (a form shown again with its error) makes its token from the same
  // secret without checking the cookie's signature a second time.
  secrets.set(request, secret);
}

/** The secret; none when the cookie is named twice (securityCookie): a secret planted in front passes no form. */
function readSecret(request: FastifyRequest, config: Readonly<Config>): string | null {
  const raw = securityCookie(request, csrfCookieName(requestIsHttps(config, request)));
  if (!raw || raw.length > 200) return null;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid ? unsigned.value : null;
}
