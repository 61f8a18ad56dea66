import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { enqueueMail, type OutgoingMail } from "./outbox.ts";

/**
 * The cap's window: a rolling hour. FAMOS_MAIL_KEEP (retention/cleanup.ts deletes older outbox rows)
 * must never be shorter, or the count would miss mails deleted inside it; its minimum is one hour
 * (config.ts, pinned by test/mail/capped-notice-keep.unit.test.ts).
 */
export const NOTICE_CAP_WINDOW_MS = 3_600_000;

/**
 * The moment a place frees, rounded up to the whole second: the mail shows it to the second, and a
 * time rounded down ("before 15:00:00" for 15:00:00.700) would leave changes in its last 700 ms unmailed
 * and unsaid. Rounded up, no change the words leave out goes unmailed (one in the last second may yet
 * be mailed: the safe side).
 */
function untilWholeSecond(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

/** A notice of one kind, mailed to one user at most `perHour` times in any rolling hour. */
export interface CappedNotice {
  kind: string;
  perHour: number;
  /**
   * Its words. `unmailedUntil`: set on the last one the hour allows, the moment a place frees again
   * (the oldest counted notice's time plus an hour, rounded up to the whole second: the factor notice
   * says until when further ones are not mailed); undefined on the others.
   */
  mail(unmailedUntil: number | undefined): Pick<OutgoingMail, "subject" | "text" | "html">;
}

/**
 * The one rule of a notice with an hourly cap (tellFactorChange: five; tellCodeReused: one), so that
 * a loop of changes or a replayed code cannot fill the owner's mailbox: at most `perHour` mails of its
 * kind to the user's OTP email in the hour before `now`, counted from the outbox on its (user_id,
 * created_at) index, and queued in the same transaction. The outbox keeps a sent mail for FAMOS_MAIL_KEEP
 * (retention/cleanup.ts deletes it after), not until the account is erased: the count is right only
 * because that setting's minimum is one hour, the cap's window (NOTICE_CAP_WINDOW_MS).
 * The caller has taken the user's row in `tx` first (takeTurnsOn): on PostgreSQL two counts at once
 * each see only committed rows and would both find room for one more; with the row taken the second
 * waits, and its count, begun after the first commits, sees the first's mail. SQLite's transactions
 * begin IMMEDIATE, one after the other. No OTP email, no mail. Returns whether one was queued: the
 * caller wakes the sender after its commit (deps.mailQueued).
 */
export async function queueCappedNotice(tx: Kysely<Database>, deps: Pick<Deps, "random" | "mailDomain">, user: User, now: number, notice: CappedNotice): Promise<boolean> {
  if (!user.otp_email) return false;
  const { told, oldest } = await tx
    .selectFrom("outbox")
    .select((eb) => [eb.fn.countAll().as("told"), eb.fn.min("created_at").as("oldest")])
    .where("user_id", "=", user.id)
    .where("created_at", ">", now - NOTICE_CAP_WINDOW_MS)
    .where("kind", "=", notice.kind)
    .executeTakeFirstOrThrow();
  const count = Number(told);
  if (count >= notice.perHour) return false;
  // The count and the last mail's wording come from the same read: the first mail counted (this one
  // when none is) leaves the window at oldest + NOTICE_CAP_WINDOW_MS, and from then the count's
  // `created_at >` condition frees a place.
  const words = notice.mail(count === notice.perHour - 1 ? untilWholeSecond((oldest === null ? now : Number(oldest)) + NOTICE_CAP_WINDOW_MS) : undefined);
  await enqueueMail(tx, now, deps.random, deps.mailDomain, { userId: user.id, kind: notice.kind, recipient: user.otp_email, ...words });
  return true;
}
