import type { Deps } from "../app/deps.ts";
import { durationInWords } from "../config/duration.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { noticeMail } from "../otp/messages.ts";
import type { User } from "../users/users.ts";
import type { FailureKind, FailureResult } from "./throttle.ts";

/** The account holder is emailed when a lock starts (SPEC "Locks"), at the confirmed address only. */
export async function tellLockStarted(deps: Deps, user: User | undefined, kind: FailureKind, result: FailureResult, now: number): Promise<void> {
  if (!result.lockStarted || !user?.otp_email) return;
  const what = kind === "password" ? "wrong passwords" : "wrong one time passcodes";
  const paragraphs = result.hardLocked
    ? [
        `Sign-in to FAMOS with the login ID ${user.login_id} has been locked after ${result.failures} ${what}.`,
        `It stays locked until your retail IT team unlocks it: write to ${deps.config.supportEmail}.`,
      ]
    : [
        `Sign-in to FAMOS with the login ID ${user.login_id} has been paused for ${durationInWords(deps.config.lock.baseMs)} after ${result.failures} ${what}.`,
        "If this was you, wait and try again. If it was not you, someone may know your password: change it on the Profile tab",
        `when you next sign in, or write to your retail IT team at ${deps.config.supportEmail}.`,
      ];
  await enqueueMail(deps.db, now, deps.random, deps.mailDomain, {
    userId: user.id,
    kind: "lock",
    recipient: user.otp_email,
    ...noticeMail("FAMOS sign-in locked", paragraphs),
  });
  deps.mailQueued();
}
