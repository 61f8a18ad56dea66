import type { FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { findUserById, type User } from "../../users/users.ts";
import { HttpProblem } from "../errors.ts";
import { field, ticketField } from "../forms.ts";
import type { Acting } from "../../support/acting.ts";
import { signedIn } from "../auth.ts";

/** The signed-in support person, as the support domain wants them: the account and the audit actor. */
export function acting(request: FastifyRequest): Acting {
  const { user } = signedIn(request);
  const agent = request.headers["user-agent"];
  return { user, audit: { actor: user.login_id, ip: request.ip, userAgent: typeof agent === "string" ? agent.slice(0, 512) : "" } };
}

/** The account named in the URL; every action re-reads it and re-checks the rules on it. */
export async function targetUser(deps: Deps, request: FastifyRequest): Promise<User> {
  const { id } = request.params as { id: string };
  const user = id.length <= 64 ? await findUserById(deps.db, id) : undefined;
  if (!user) throw new HttpProblem(404, "There is no such user.");
  return user;
}

/**
 * The guide's identity form, which the OTP email reset and the temporary password both ask for
 * (support/identified-request.ts checks it): the account's name, login ID and partner number as the
 * caller gave them, and the ticket of the request.
 */
export const IDENTIFIED_REQUEST_FORM = { name: field(200), loginId: field(200), partnerNumber: field(200), ticket: ticketField() };
