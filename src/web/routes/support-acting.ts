import type { FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { findUserById, type User } from "../../users/users.ts";
import { HttpProblem } from "../errors.ts";
import type { Acting } from "../../support/acting.ts";
import { requestContext, signedIn } from "../auth.ts";

/** The signed-in support person, as the support domain wants them: the account and the audit actor. */
export function acting(request: FastifyRequest): Acting {
  const { user } = signedIn(request);
  const ctx = requestContext(request);
  return { user, audit: { actor: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent } };
}

/** The account named in the URL; every action re-reads it and re-checks the rules on it. */
export async function targetUser(deps: Deps, request: FastifyRequest): Promise<User> {
  const { id } = request.params as { id: string };
  const user = id.length <= 64 ? await findUserById(deps.db, id) : undefined;
  if (!user) throw new HttpProblem(404, "There is no such user.");
  return user;
}
