import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { userTranslator } from "../i18n/translator.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { noticeMail } from "../otp/messages.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { pauseOverBy } from "./pause-end.ts";
import type { FailureKind, FailureResult, PauseScope } from "./throttle.ts";

/** The English subjects of a sign-in lock until IT unlocks it, and of a timed one (a pause), as its body says. */
export const LOCK_SUBJECT = "FAMOS sign-in locked";
export const PAUSE_SUBJECT = "FAMOS sign-in paused";

const SUBJECT = {
  "sign-in": { locked: "mail.lock.subject", paused: "mail.lock.pausedSubject", devicePaused: "mail.lock.devicePausedSubject" },
  reset: { locked: "mail.lock.resetSubject", paused: "mail.lock.resetPausedSubject", devicePaused: "mail.lock.resetPausedSubject" },
} as const;

/**
 * The account holder is emailed when a lock starts (SPEC "Locks"), at the confirmed address only:
 * once per lock, since recordFailure reports a start only to the request that found no lock in force.
 * A login ID without an account, or without a confirmed address, has nobody to tell. `scope` is the
 * counter that locked: a browser's own (device cookie) or the login ID's.
 */
export async function tellLockStarted(
  deps: Deps,
  user: User | undefined,
  kind: FailureKind,
  result: FailureResult,
  now: number,
  scope: PauseScope = "login-id",
): Promise<void> {
  if (await queueLockMail(deps, deps.db, user, kind, result, now, scope)) deps.mailQueued();
}

/**
 * tellLockStarted's mail, queued on `db` (countWrongAttempt: the transaction of the failure that
 * started the lock); true when one was, and the caller wakes the sender once that is committed.
 */
export async function queueLockMail(
  deps: Deps,
  db: Kysely<Database>,
  user: User | undefined,
  kind: FailureKind,
  result: FailureResult,
  now: number,
  scope: PauseScope,
): Promise<boolean> {
  // A pause started while the login ID is locked until support unlocks (a stranger's wrong passwords
  // or reset codes, counted as at any account: lockToldOnceRight) is not mailed: its words ("a browser
  // where you have signed in can still be used", "wait and try again", "signing in is not affected")
  // are false then, and the owner had the lock's own mail, which says what to do.
  if (!result.lockStarted || result.underLockUntilUnlocked || !user?.otp_email) return false;
  // Issue 16: in the account holder's language and time zone.
  const t = userTranslator(deps.config, user);
  const support = deps.config.supportEmail;
  const failures = t.text(kind === "password" ? "mail.lock.passwords" : "mail.lock.codes", { count: result.failures });
  // Only for a timed lock: a lock until support unlocks ends at Infinity, which no clock can show.
  // Its end names the zone, as the code's mail names its own (in brackets already: "until 14:02 UK time").
  const paused = () => {
    const over = pauseOverBy(result.lockedUntil);
    return { loginId: user.login_id, duration: t.duration(result.lockedUntil - now), until: t.withZone(t.dateTime(over), over, false), failures };
  };
  // The reset's own lock (FailureKind "reset") keeps the sign-in open: its mail says so.
  const paragraphs =
    kind === "reset"
      ? result.hardLocked
        ? [t.text("mail.lock.resetHard1", { loginId: user.login_id, failures }), t.text("mail.lock.resetHard2", { support })]
        : [t.text("mail.lock.resetPaused1", paused()), t.text("mail.lock.resetPaused2", { support })]
      : result.hardLocked && scope === "device"
        ? // One browser's lock (device cookie): the owner still signs in elsewhere, so she is told
          // what the other lock mails tell, what to do if it was not her (whoever it was typed her password).
          [
            t.text("mail.lock.deviceHard1", { loginId: user.login_id, failures }),
            t.text("mail.lock.deviceHard2"),
            t.text("mail.lock.deviceHard3", { support }),
          ]
        : result.hardLocked
        ? [
            t.text("mail.lock.hard1", { loginId: user.login_id, failures }),
            t.text("mail.lock.hard2", { support }),
            // Codes are asked for only after the right password: whoever typed them knows it.
            ...(kind === "code" ? [t.text("mail.lock.hard3")] : []),
          ]
        : // A timed lock is a pause of some browsers only (SPEC "Locks"): the login ID's refuses browsers
          // without its device cookie, a browser's own stops that browser; the mail says which.
          [t.text(scope === "device" ? "mail.lock.devicePaused1" : "mail.lock.paused1", paused()), t.text("mail.lock.paused2", { support })];
  await enqueueMail(db, now, deps.random, deps.mailDomain, {
    userId: user.id,
    kind: "lock",
    recipient: user.otp_email,
    // The subject says what the body says: "paused" for a timed lock, "locked" until IT unlocks it;
    // a browser's own pause says so ("on one browser"), as its body does.
    ...noticeMail(t.text(SUBJECT[kind === "reset" ? "reset" : "sign-in"][result.hardLocked ? "locked" : scope === "device" ? "devicePaused" : "paused"]), paragraphs, t),
  });
  return true;
}
