import type { FastifyRequest } from "fastify";
import type { Acting } from "../../support/acting.ts";
import { requestContext, signedIn } from "../auth.ts";

/** The signed-in support person, as the support domain wants them: the account and the audit actor. */
export function acting(request: FastifyRequest): Acting {
  const { user } = signedIn(request);
  const ctx = requestContext(request);
  return { user, audit: { actor: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent } };
}
