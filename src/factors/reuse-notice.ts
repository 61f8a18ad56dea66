import type { Deps } from "../app/deps.ts";
import { userTranslator } from "../i18n/translator.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { codeReusedMail } from "../strong-factors/messages.ts";
import type { User } from "../users/users.ts";

/** Which code arrived again: an authenticator app's (one 30-second step) or a recovery code. */
export type ReusedCode = "app" | "recovery";

export const REUSE_NOTICE_KIND = "notice.code-reused";

/** At most one such mail an hour: someone replaying a code over and over must not flood the mailbox. */
export const REUSE_NOTICE_EVERY_MS = 60 * 60 * 1000;

/**
 * The one home of "tell the holder that a used code came back" (ASVS 2.8.5): an app code is only
 * ever typed by its holder within its 30-second step, and a recovery code works once, so the same
 * one arriving again means it was seen by someone else or typed twice; the mail says both. Only to
 * the confirmed OTP email, in the holder's language. The emailed code is not told about: its reuse is
 * a double submit far more often, and it went to that same mailbox.
 */
export async function tellCodeReused(deps: Deps, user: User, code: ReusedCode, now: number): Promise<void> {
  if (!user.otp_email) return;
  const recent = await deps.db
    .selectFrom("outbox")
    .select("id")
    .where("user_id", "=", user.id)
    .where("kind", "=", REUSE_NOTICE_KIND)
    .where("created_at", ">", now - REUSE_NOTICE_EVERY_MS)
    .executeTakeFirst();
  if (recent) return;
  const mail = codeReusedMail({ factor: code, loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail });
  await enqueueMail(deps.db, now, deps.random, deps.mailDomain, { userId: user.id, kind: REUSE_NOTICE_KIND, recipient: user.otp_email, ...mail });
  deps.mailQueued();
}
