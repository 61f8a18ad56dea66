import type { Deps } from "../app/deps.ts";
import { durationInWords } from "../config/duration.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { noticeMail } from "../otp/messages.ts";
import { formatDateTime } from "../platform/format.ts";
import type { User } from "../users/users.ts";
import type { FailureKind, FailureResult } from "./throttle.ts";

export const LOCK_SUBJECT = "FAMOS sign-in locked";

/**
 * The account holder is emailed when a lock starts (SPEC "Locks"), at the confirmed address only:
 * once per lock, since recordFailure reports a start only to the request that found no lock in force.
 * A login ID without an account, or without a confirmed address, has nobody to tell.
 */
export async function tellLockStarted(deps: Deps, user: User | undefined, kind: FailureKind, result: FailureResult, now: number): Promise<void> {
  if (!result.lockStarted || !user?.otp_email) return;
  const what = kind === "password" ? "wrong passwords" : "wrong one time passcodes";
  const paragraphs = result.hardLocked
    ? [
        `Sign-in to FAMOS with the login ID ${user.login_id} has been locked after ${result.failures} ${what} in a row.`,
        `It stays locked until your retail IT team unlocks it: write to ${deps.config.supportEmail}.`,
      ]
    : [
        `Sign-in to FAMOS with the login ID ${user.login_id} has been paused for ${durationInWords(result.lockedUntil - now)} ` +
          `(until ${formatDateTime(result.lockedUntil, deps.config.timezone)}) after ${result.failures} ${what} in a row.`,
        "If this was you, wait and try again. If it was not you, someone may be trying to sign in as you: change your password on the Profile tab",
        `when you next sign in, or write to your retail IT team at ${deps.config.supportEmail}.`,
      ];
  await enqueueMail(deps.db, now, deps.random, deps.mailDomain, {
    userId: user.id,
    kind: "lock",
    recipient: user.otp_email,
    ...noticeMail(LOCK_SUBJECT, paragraphs),
  });
  deps.mailQueued();
}
