import type { FastifyReply } from "fastify";
import type { Deps } from "../app/deps.ts";
import type { SignedInOutcome } from "../signin/code-step.ts";
import type { User } from "../users/users.ts";
import { setSessionCookie, STEP_PATH } from "./auth.ts";
import { setDeviceCookie } from "./device-cookie.ts";
import { returnTarget } from "./return-to.ts";

/**
 * A confirmed second factor, whichever it was (the code, a passkey, …): the rotated session's cookie,
 * the device cookie, then the next step ("Choose a new password", the strong-factor setup) or where the sign-in was going. One home, so every
 * factor ends a sign-in the same way.
 */
export function answerSignedIn(deps: Deps, reply: FastifyReply, user: User, outcome: SignedInOutcome) {
  setSessionCookie(deps, reply, outcome);
  setDeviceCookie(deps, reply, user.login_id, outcome.deviceToken);
  // "Choose a new password" (issue 11), or the strong-factor setup of FAMOS_STRONG_FACTOR_ROLES (issue 13).
  if (outcome.session.stage !== "full") return reply.redirect(STEP_PATH[outcome.session.stage], 303);
  return reply.redirect(returnTarget(deps, outcome.returnTo), 303);
}
