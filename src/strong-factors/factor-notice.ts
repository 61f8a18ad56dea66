import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { userTranslator } from "../i18n/translator.ts";
import { enqueueMail } from "../mail/outbox.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { factorChangedMail, type FactorChange } from "./messages.ts";

/** Factor-change notices one user is sent in an hour; the last of them says so (tellFactorChange). */
export const FACTOR_MAILS_PER_HOUR = 5;
const HOUR_MS = 3_600_000;

/**
 * The one home that tells the account's OTP email of a change to the user's own second factors
 * (ASVS 2.5.5, 2.2.3): a passkey added or removed, the authenticator app set up or removed, a new set
 * of recovery codes. Queued in the caller's transaction, beside the change and its audit line, so a
 * change is never stored untold; the caller wakes the sender after its commit (deps.mailQueued). A
 * colleague at a shared counter PC who used a Profile left open (a code confirmed minutes ago asks for
 * no password) to add his phone's passkey or app, or to photograph new recovery codes, then signed in
 * as her with the password he saw her type, her mailbox never involved: only the audit trail knew.
 * At most FACTOR_MAILS_PER_HOUR an hour per user (a full session's requests are not counted by the
 * request limit, and new recovery codes in a loop would fill the owner's mailbox), in a rolling hour:
 * the notices queued in the hour before this change. The last says until when further changes go
 * unmailed — when the oldest of those leaves the hour, not an hour from now, which a change at 14:40
 * after notices from 14:00 would have overstated by 40 minutes — and to check Profile, so no change
 * goes untold; counted from the outbox (kept until the account is erased), on its (user_id,
 * created_at) index.
 * Support's removal of every factor has its own mail (factorsRemovedMail). No address, no mail: an
 * account before its wave without an OTP email yet is told nothing (SECURITY.md 2.5.5).
 */
export async function tellFactorChange(tx: Kysely<Database>, deps: Deps, user: User, now: number, change: FactorChange): Promise<boolean> {
  if (!user.otp_email) return false;
  const { told, oldest } = await factorMailsWithinHour(tx, user.id, now);
  if (told >= FACTOR_MAILS_PER_HOUR) return false;
  // The count and this mail's wording come from the same read: the first mail counted (this one when
  // none is) leaves the hour at oldest + HOUR_MS, and from that moment `created_at > now - HOUR_MS` frees a place.
  const unmailedUntil = told === FACTOR_MAILS_PER_HOUR - 1 ? (oldest ?? now) + HOUR_MS : undefined;
  const mail = factorChangedMail({ change, unmailedUntil, loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail });
  await enqueueMail(tx, now, deps.random, deps.mailDomain, { userId: user.id, kind: "notice.factor-changed", recipient: user.otp_email, ...mail });
  return true;
}

async function factorMailsWithinHour(tx: Kysely<Database>, userId: string, now: number): Promise<{ told: number; oldest: number | null }> {
  const row = await tx
    .selectFrom("outbox")
    .select((eb) => [eb.fn.countAll().as("told"), eb.fn.min("created_at").as("oldest")])
    .where("user_id", "=", userId)
    .where("created_at", ">", now - HOUR_MS)
    .where("kind", "=", "notice.factor-changed")
    .executeTakeFirstOrThrow();
  return { told: Number(row.told), oldest: row.oldest === null ? null : Number(row.oldest) };
}
