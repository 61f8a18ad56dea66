import type { Deps } from "../app/deps.ts";
import { userTranslator } from "../i18n/translator.ts";
import { queueCappedNotice } from "../mail/capped-notice.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { codeReusedMail } from "../strong-factors/messages.ts";
import type { User } from "../users/users.ts";

/** Which code arrived again: an authenticator app's (one 30-second step) or a recovery code. */
export type ReusedCode = "app" | "recovery";

export const REUSE_NOTICE_KIND = "notice.code-reused";

/** At most one such mail an hour: someone replaying a code over and over must not flood the mailbox. */
export const REUSE_NOTICES_PER_HOUR = 1;

/**
 * The one home of "tell the holder that a used code came back" (ASVS 2.8.5): an app code is only
 * ever typed by its holder within its 30-second step, and a recovery code works once, so the same
 * one arriving again means it was seen by someone else or typed twice; the mail says both. Only to
 * the confirmed OTP email, in the holder's language. The emailed code is not told about: its reuse is
 * a double submit far more often, and it went to that same mailbox. The cap is the one rule of capped
 * notices (queueCappedNotice, mail/capped-notice.ts), in a transaction of its own that takes the user's
 * row first: replays at once on PostgreSQL count one after the other, so they send one mail, not one
 * each. Called after the checking transaction has ended (checkSecondFactor), so no lock is held here.
 */
export async function tellCodeReused(deps: Deps, user: User, code: ReusedCode, now: number): Promise<void> {
  if (!user.otp_email) return;
  const queued = await deps.db.transaction().execute(async (tx) => {
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: user.id });
    return queueCappedNotice(tx, deps, user, now, {
      kind: REUSE_NOTICE_KIND,
      perHour: REUSE_NOTICES_PER_HOUR,
      mail: () => codeReusedMail({ factor: code, loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail }),
    });
  });
  if (queued) deps.mailQueued();
}
