import type { Deps } from "../app/deps.ts";
import type { Config } from "../config/config.ts";
import { strongFactorRequired } from "../strong-factors/policy.ts";
import type { User } from "../users/users.ts";
import { startFor } from "./plan.ts";

export type TwoFactorDecision =
  | { applies: true }
  /** Before the user's wave: the password alone signs in, and the portal invites early enrolment. */
  | { applies: false; startsAt: number };

/**
 * Accounts that never sign in with the password alone, whatever the rollout plan or "Later" says:
 * - support and admin accounts: the console they reach must never be password-only, nor may the
 *   portal session of an account that can reset others' enrolments;
 * - any role in FAMOS_STRONG_FACTOR_ROLES: a policy that requires a passkey or an app cannot be
 *   undercut by a wave that has not started yet;
 * - anyone with a confirmed OTP email, even before their wave: who has set an address up (early,
 *   or pre-loaded by the operator) expects and is owed its protection;
 * - anyone who ever confirmed one (`otp_email_confirmed_at`, which support's OTP email reset keeps):
 *   a reset brings "User profile" at the next sign-in, as its mail says, and never turns an account
 *   that had two factors into one the password alone opens (before, it did until the wave, and after
 *   it "Later" was offered: test/security/lifecycle-attacks.test.ts).
 * - anyone with a passkey or a confirmed authenticator app (`strong_factor_at`), set up before their
 *   wave from the portal the password alone opened: before, it was ignored until the wave, and whoever
 *   had the password still signed in with it alone. Removing the last one (support's "Remove second
 *   factors") returns the account to its wave's rule;
 * The one home of that rule: the wave decision below and "Later" (grace.ts) both ask here.
 */
export function alwaysTwoFactor(config: Readonly<Config>, user: Pick<User, "role" | "otp_email" | "otp_email_confirmed_at" | "strong_factor_at">): boolean {
  return (
    user.role !== "user" ||
    strongFactorRequired(config, user) ||
    Boolean(user.otp_email) ||
    user.otp_email_confirmed_at !== null ||
    user.strong_factor_at !== null
  );
}

/**
 * The one home of "does two-factor sign-in apply to this user now?" (issue 12). It applies to the
 * accounts of `alwaysTwoFactor`; to everyone else from the start of their wave (their partner's start,
 * else the default start), and to everyone when there is no plan, as before rollouts existed.
 */
export async function twoFactorDecision(deps: Deps, user: User, now: number): Promise<TwoFactorDecision> {
  if (alwaysTwoFactor(deps.config, user)) return { applies: true };
  const startsAt = await startFor(deps.db, user.partner_number);
  if (startsAt === null || now >= startsAt) return { applies: true };
  return { applies: false, startsAt };
}
