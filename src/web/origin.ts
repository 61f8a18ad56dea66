import type { FastifyRequest } from "fastify";
import type { Config } from "../config/config.ts";
import type { RelyingParty } from "../passkeys/relying-party.ts";
import { HttpProblem } from "./errors.ts";

/** The origin FAMOS trusts for a request: FAMOS_PUBLIC_URL's, or the request's own when that is not set. */
export function expectedOrigin(request: FastifyRequest, config: Readonly<Config>): string {
  return config.publicUrlExplicit ? config.publicUrl.origin : `${request.protocol}://${request.host}`;
}

/**
 * Who a passkey ceremony is for (WebAuthn Level 3 §7.1 steps 9 and 15): the origin the browser must
 * report, the same one the forms are checked against, and the RP ID — FAMOS_RP_ID or
 * FAMOS_PUBLIC_URL's host, else (development) the host this request came to.
 */
export function relyingParty(request: FastifyRequest, config: Readonly<Config>): RelyingParty {
  const origin = expectedOrigin(request, config);
  if (config.passkeys.rpId !== null) return { origin, rpId: config.passkeys.rpId };
  // No FAMOS_RP_ID and no FAMOS_PUBLIC_URL: the origin is the Host's (or a trusted proxy's
  // X-Forwarded-Host), which the client writes. Only a plain host[:port] names the host the request
  // came to: the URL rules would read "user@evil.example" or "evil.example/x" as evil.example, and
  // "a b" or "[::1" as nothing. Any of these is refused rather than taken as the relying party or
  // failing as a 500.
  const notValid = () => new HttpProblem(400, "The address of this request is not valid.");
  if (!PLAIN_HOST.test(request.host)) throw notValid();
  try {
    return { origin, rpId: new URL(origin).hostname };
  } catch {
    throw notValid();
  }
}

/**
 * RFC 9110 §7.2's Host as browsers send it: a name (in ASCII: an IDN goes as its xn-- form), an IPv4
 * address or a bracketed IPv6 one, and a port. No credentials, path, query or fragment; the URL
 * parser then checks the port's range and the address's form.
 */
export const PLAIN_HOST = /^(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])(?::[0-9]+)?$/i;

/**
 * OWASP CSRF cheat sheet, "verifying origin with standard headers": when a browser sends Origin it
 * must be FAMOS_PUBLIC_URL's origin, or the request's own host when that is not set.
 */
export function checkOrigin(request: FastifyRequest, config: Readonly<Config>): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (origin === expectedOrigin(request, config)) return;
  // Issue 19.4: the protected application's pages run sandboxed in an opaque origin, so the browser
  // sends their own form posts with `Origin: null` and no Referer (Referrer Policy §8.3: an opaque
  // origin sends none). On the section paths only, and only as a navigation (a form being submitted,
  // never a script's fetch: `Sec-Fetch-Mode: navigate`), such a request goes on to the application.
  // A sandboxed form on another site looks the same: the application's own form tokens stop it
  // (README, "The protected application"). FAMOS's own pages keep the strict rule.
  if (origin === "null" && request.routeOptions.config.sandboxedSection === true && request.headers["sec-fetch-mode"] === "navigate") return;
  throw new HttpProblem(403, "This form was sent from another site, so FAMOS did not accept it.");
}
