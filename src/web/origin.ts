import type { FastifyRequest } from "fastify";
import type { Config } from "../config/config.ts";
import { HttpProblem } from "./errors.ts";

/**
 * OWASP CSRF cheat sheet, "verifying origin with standard headers": when a browser sends Origin it
 * must be FAMOS_PUBLIC_URL's origin, or the request's own host when that is not set.
 */
export function checkOrigin(request: FastifyRequest, config: Readonly<Config>): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const expected = config.publicUrlExplicit ? config.publicUrl.origin : `${request.protocol}://${request.host}`;
  if (origin !== expected) throw new HttpProblem(403, "This form was sent from another site, so FAMOS did not accept it.");
}
