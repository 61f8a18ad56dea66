import type { FastifyRequest } from "fastify";
import type { Acting } from "../../support/acting.ts";
import { signedIn } from "../auth.ts";

/** The signed-in support person, as the support domain wants them: the account and the audit actor. */
export function acting(request: FastifyRequest): Acting {
  const { user } = signedIn(request);
  const agent = request.headers["user-agent"];
  return { user, audit: { actor: user.login_id, ip: request.ip, userAgent: typeof agent === "string" ? agent.slice(0, 512) : "" } };
}
