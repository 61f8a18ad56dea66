import type { Deps } from "../app/deps.ts";
import type { User } from "../users/users.ts";
import { startFor } from "./plan.ts";

export type TwoFactorDecision =
  | { applies: true }
  /** Before the user's wave: the password alone signs in, and the portal invites early enrolment. */
  | { applies: false; startsAt: number };

/**
 * The one home of "does two-factor sign-in apply to this user now?" (issue 12). It applies:
 * - to support and admin accounts always: the console they reach must never be password-only;
 * - to anyone with a confirmed OTP email, even before their wave: who has set an address up (early,
 *   or pre-loaded by the operator) expects and is owed its protection;
 * - from the start of the user's wave (their partner's start, else the default start);
 * - to everyone when there is no plan, as before rollouts existed.
 */
export async function twoFactorDecision(deps: Deps, user: User, now: number): Promise<TwoFactorDecision> {
  if (user.role !== "user" || user.otp_email) return { applies: true };
  const startsAt = await startFor(deps.db, user.partner_number);
  if (startsAt === null || now >= startsAt) return { applies: true };
  return { applies: false, startsAt };
}

export async function twoFactorAppliesNow(deps: Deps, user: User, now: number): Promise<boolean> {
  return (await twoFactorDecision(deps, user, now)).applies;
}
