import type { Deps } from "../app/deps.ts";
import { enrolEmail, type EnrolOutcome } from "../enrolment/enrol.ts";
import { reviewNewAddress, type AddressEntry } from "../enrolment/review-address.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { requireFreshProof, type FreshProof } from "../profile/reauthenticate.ts";
import type { Session } from "../session/sessions.ts";
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

/**
 * Early enrolment from the portal (the banner's "set your OTP email now"): the address becomes the
 * account's second factor, so it asks what Profile asks before the same change (ASVS 3.7.1,
 * requireFreshProof: a code confirmed in the last 15 minutes, else the password again). A session the
 * password alone opened never confirmed a code, so it is always the password: before, the session
 * alone sufficed, and whoever found it open on a shared PC (up to FAMOS_SESSION_MAX) made their mailbox
 * the account's factor, nobody told (red team 2026-12-07). The address is reviewed first, as Profile's
 * is, so a typo costs no password try.
 */
export async function enrolEarly(
  deps: Deps,
  user: User,
  session: Session,
  input: { entry: AddressEntry; password: string | null },
  ctx: RequestContext,
): Promise<EnrolOutcome | Exclude<FreshProof, { kind: "ok" }>> {
  const review = await reviewNewAddress(deps, user, input.entry);
  if (!review.ok) return { kind: "invalid", problem: review.problem, message: review.message, ...("suggestion" in review ? { suggestion: review.suggestion } : {}) };
  const proof = await requireFreshProof(deps, user, session, input.password, ctx, "email-change");
  if (proof.kind !== "ok") return proof;
  return enrolEmail(deps, user, session, input.entry, ctx);
}
