import type { Deps } from "../app/deps.ts";
import { queryAudit, type AuditRecord } from "../audit/audit.ts";
import { addressProblems, type AddressProblems } from "../bounce/addresses.ts";
import type { OutboxTable } from "../store/schema.ts";
import { accountLockInfo } from "../regulation/locks.ts";
import { storedWordsShown } from "../users/fields.ts";
import type { User } from "../users/users.ts";
import { factorsOf, type FactorSummary } from "../strong-factors/factors.ts";
import { waitingAddress } from "../profile/waiting-address.ts";

export type EnrolmentState = "none" | "pending" | "confirmed";

/** SPEC item 2's states: no address, one waiting for its code, or a confirmed one. */
export function enrolmentState(user: User): EnrolmentState {
  if (user.otp_email) return "confirmed";
  return user.pending_email ? "pending" : "none";
}

export type SentMail = Pick<OutboxTable, "id" | "kind" | "recipient" | "subject" | "state" | "attempts" | "created_at" | "sent_at" | "last_error" | "bounce_kind" | "bounce_reason">;

export interface UserOverview {
  user: User;
  enrolment: EnrolmentState;
  /** The address waiting for its code: an enrolment's, or a Profile change's still live (waitingAddress). */
  pending: string | null;
  lock: Awaited<ReturnType<typeof accountLockInfo>>;
  events: AuditRecord[];
  mails: SentMail[];
  /** What bounces said about the OTP email and the address waiting for its code (issue 15). */
  delivery: { otp: AddressProblems | null; pending: AddressProblems | null };
  /** Issue 13: passkeys, the authenticator app, recovery codes left, when last used. */
  factors: FactorSummary;
  /** The moment it was read: the access line's temporary password is valid or ran out as of it. */
  now: number;
}

export const RECENT_LIMIT = 20;

/** What a support person needs to handle a request about one account (SPEC item 8, "a user's page"). */
export async function userOverview(deps: Deps, user: User): Promise<UserOverview> {
  const now = deps.clock.now();
  const pendingAddress = await waitingAddress(deps, user);
  const [lock, events, mails, otp, pending, factors] = await Promise.all([
    accountLockInfo(deps, user.login_key, now),
    queryAudit(deps.db, { subject: user.login_id, limit: RECENT_LIMIT }),
    deps.db
      .selectFrom("outbox")
      .select(["id", "kind", "recipient", "subject", "state", "attempts", "created_at", "sent_at", "last_error", "bounce_kind", "bounce_reason"])
      .where("user_id", "=", user.id)
      .orderBy("created_at", "desc")
      .limit(RECENT_LIMIT)
      .execute()
      .then((rows) => rows.map((m) => ({ ...m, last_error: storedWordsShown(m.last_error), bounce_reason: storedWordsShown(m.bounce_reason) }))),
    user.otp_email ? addressProblems(deps.db, user.otp_email) : null,
    pendingAddress ? addressProblems(deps.db, pendingAddress) : null,
    factorsOf(deps.db, user.id),
  ]);
  return { user, enrolment: enrolmentState(user), pending: pendingAddress, lock, events, mails, delivery: { otp, pending }, factors, now };
}
