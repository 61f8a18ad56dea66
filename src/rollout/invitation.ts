import type { Deps } from "../app/deps.ts";
import type { User } from "../users/users.ts";
import { twoFactorDecision } from "./applies.ts";

/**
 * The portal's invitation to set an OTP email, for a user signed in with the password alone:
 * before their wave (`startsAt` in the future), or after it on a "Later" (`startsAt` null).
 * Null for everyone else, without a query for the many who have an address.
 */
export async function enrolInvitation(deps: Deps, user: User): Promise<{ startsAt: number | null } | null> {
  if (user.otp_email || user.role !== "user") return null;
  const decision = await twoFactorDecision(deps, user, deps.clock.now());
  return { startsAt: decision.applies ? null : decision.startsAt };
}
