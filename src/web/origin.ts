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
  // The Host (or a trusted proxy's X-Forwarded-Host) is the client's to write: "a b" or "[::1" is
  // no host name, and a request that names none is refused rather than failing as a 500.
  try {
    return { origin, rpId: new URL(origin).hostname };
  } catch {
    throw new HttpProblem(400, "The address of this request is not valid.");
  }
}

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
