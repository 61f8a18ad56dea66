import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { queryAudit } from "../audit/audit.ts";
import type { Translator } from "../i18n/translator.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { voidUserCodes } from "../otp/codes.ts";
import { finishUserFlows } from "../otp/flows.ts";
import { identifyDevice, revokeDevices } from "../regulation/devices.ts";
import { endUserSessions, type Session } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";

/**
 * Why this account may not sign in at all, or null when it may. The caller answers exactly as for a
 * wrong password (same words, same work), so nobody learns that an account is disabled or that its
 * temporary password ran out (ASVS 2.2.1; issue 11). The reason goes to the audit trail only.
 * A temporary password spent by a sign-in before the user's wave (`-until`, stageAfterSignIn) signs in
 * again, until `until`, only where the caller says the password alone no longer opens anything
 * (`reopened`: the wave has started, so the second factor comes next) and only to meet a second factor
 * already on file (reopensAtStart); 0 is spent for good.
 */
export function signInBarred(user: User, now: number, reopened = false): "disabled" | "temporary-password-expired" | null {
  if (user.disabled_at !== null) return "disabled";
  const until = user.password_temporary_until;
  if (until !== null && (Math.abs(until) <= now || (until < 0 && !(reopened && reopensAtStart(user))))) return "temporary-password-expired";
  return null;
}

/** A temporary password spent by a sign-in before the wave (signInBarred): it may sign in again with the second factor. */
export function spentBeforeWave(user: Pick<User, "password_temporary_until">): boolean {
  return user.password_temporary_until !== null && user.password_temporary_until < 0;
}

/**
 * Whether a temporary password spent before the wave may sign in once more from its start: only where a
 * second factor is already on file (an OTP email address, a passkey or an authenticator app), which the
 * sign-in must then meet. With none, the sign-in would enrol one: whoever read the ticket would type an
 * address of their own and take the account, so such a password stays spent and its user asks support
 * for a new one (SECURITY.md 18).
 */
export function reopensAtStart(user: Pick<User, "password_temporary_until" | "otp_email" | "strong_factor_at">): boolean {
  return spentBeforeWave(user) && (user.otp_email !== null || user.strong_factor_at !== null);
}

/**
 * Whether the account still lets in as it did when `seen` was read: the same login key and password
 * hash, not disabled since, the same temporary-password state and the same OTP email. A decision made
 * on `seen` before a slow step (an argon2id hash or verification) holds only when this is true of the
 * account read again in the transaction that acts on it: a disable, a replaced password or an OTP
 * email reset committed in between must hold (NIST SP 800-63B 6.2, 6.4). Role, name and language
 * give no access and are not compared here.
 */
export function sameAccess(seen: User, current: User): boolean {
  return (
    seen.login_key === current.login_key &&
    seen.password_hash === current.password_hash &&
    seen.disabled_at === current.disabled_at &&
    seen.password_temporary_until === current.password_temporary_until &&
    seen.otp_email === current.otp_email &&
    seen.otp_email_confirmed_at === current.otp_email_confirmed_at &&
    seen.strong_factor_at === current.strong_factor_at
  );
}

/** What endUserAccess ended: live sessions, and pending codes voided. */
export interface AccessEnded {
  sessions: number;
  codes: number;
}

/**
 * Ends everything that lets this user in now: every live session and every pending code (and so the
 * flows they belong to: a sign-in's, an email change's, a "Forgot password?" reset's), and with an
 * email change's flow its pending address. One home for
 * "cut this account off", used by disable, erase, a temporary password, a completed reset and a
 * password change. A change the user makes in a session of hers (Profile, "Choose a new password")
 * keeps that session and its flow (`keep`); everything else ends, so a reset's code asked for before
 * the change (by whoever reads the mailbox) cannot replace the password she has just chosen.
 * Device cookies (regulation/devices.ts) are not ended here (a disable or erasure needs no more): a new
 * password ends them too, through endAccessForNewPassword; support's OTP email reset revokes them.
 */
export async function endUserAccess(db: Kysely<Database>, userId: string, now: number, reason: string, keep?: Pick<Session, "id" | "flow_id">): Promise<AccessEnded> {
  const keptFlow = keep?.flow_id ?? null;
  // A Profile email change's new address is pending exactly as long as its flow, and every flow but
  // the kept one ends here, so its stored address goes too (search, bounce/forget.ts read the column).
  // What reports a change as waiting (the console, `famos user show`, support's reset) asks
  // waitingAddress (profile/waiting-address.ts), which also sees the ends nobody writes (a lapse, a
  // code run out). An enrolment's pending address (no confirmed one yet) stays: it is the rollout's
  // "pending" state, and the next sign-in asks again.
  // First, as the account's row comes first in every writer (store/take-turns.ts).
  await db
    .updateTable("users")
    .set({ pending_email: null })
    .where("id", "=", userId)
    .where("otp_email", "is not", null)
    .where("pending_email", "is not", null)
    .$if(keptFlow !== null, (qb) =>
      qb.where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom("flows").select("id").where("id", "=", keptFlow!).where("kind", "=", "email-change").where("finished_at", "is", null))),
      ),
    )
    .execute();
  const codes = await voidUserCodes(db, userId, reason, now, { except: keptFlow });
  await finishUserFlows(db, userId, now, { except: keptFlow });
  return { sessions: await endUserSessions(db, userId, now, reason, keep?.id), codes };
}

/**
 * A password replaced, by whatever path (Profile, "Choose a new password", "Forgot password?",
 * support's temporary password from the console or `famos user set-password`, an import's new hash):
 * endUserAccess, and every device cookie of the login ID forgotten but the one of the browser that
 * chose the password (`keep.deviceTokens`, when it holds a live one). A device cookie keeps its
 * browser out of the login ID's and the address's pauses and the request limit (SPEC "Locks"); a
 * password changed because it leaked must not leave that to whoever signed in with it (ASVS 3.3.3).
 * The owner's other browsers meet the pauses of new ones until her next sign-in there.
 * And the account's address is told (ASVS 2.2.3, SECURITY.md "notify on authentication changes"): every
 * new password, whatever the path, mails `notice` in the same transaction; the path gives its own
 * words (a change, a reset, a temporary password, an import) and the address the account has. An
 * account without one since support reset it is told at the address the reset cleared
 * (addressClearedByReset): a reset and a new password together hand the next enrolment to whoever
 * holds the password, by the console, the CLI or an import row, and the user must hear of both.
 */
export async function endAccessForNewPassword(
  deps: Pick<Deps, "keys" | "random" | "mailDomain">,
  db: Kysely<Database>,
  user: Pick<User, "id" | "login_key" | "login_id">,
  now: number,
  reason: string,
  notice: NewPasswordNotice,
  keep?: { session?: Pick<Session, "id" | "flow_id">; deviceTokens?: readonly string[] },
): Promise<AccessEnded & { devices: number }> {
  const ended = await endUserAccess(db, user.id, now, reason, keep?.session);
  const devices = await forgetOtherDevices(deps, db, user, now, keep?.deviceTokens);
  const recipient = notice.recipient ?? (await addressClearedByReset(db, user.login_id));
  if (recipient) await enqueueMail(db, now, deps.random, deps.mailDomain, { userId: user.id, kind: notice.kind, recipient, ...notice.mail() });
  return { ...ended, devices };
}

/**
 * The address support's latest reset of a confirmed address cleared, asked for an account that has none
 * now; null when it never had one reset (or the retention job removed that reset). A
 * temporary password set after a reset is told there: the reset and the password together hand the
 * account's next enrolment to whoever holds the password, and the user must hear of both.
 */
async function addressClearedByReset(db: Kysely<Database>, loginId: string): Promise<string | null> {
  const resets = await queryAudit(db, { subject: loginId, event: "email.reset", limit: 10 });
  const cleared = resets.map((event) => event.detail.previousEmail).find((address) => typeof address === "string");
  return typeof cleared === "string" ? cleared : null;
}

/** How a new password is told (endAccessForNewPassword): the mail's kind, its address (null: none), its words. */
export interface NewPasswordNotice {
  kind: "notice.password-changed" | "notice.password-reset" | "notice.temporary-password";
  recipient: string | null;
  mail: () => { subject: string; text: string; html: string };
}

/**
 * A new factor (a new password, a new OTP email from Profile or an import): every device cookie of the
 * login ID revoked but the live one among `deviceTokens` (the browser that made the change); the
 * number revoked. Whoever signed in before with the old factor keeps no known browser.
 */
export async function forgetOtherDevices(
  deps: Pick<Deps, "keys">,
  db: Kysely<Database>,
  user: Pick<User, "login_key">,
  now: number,
  deviceTokens: readonly string[] = [],
): Promise<number> {
  const kept = await identifyDevice({ db, keys: deps.keys }, deviceTokens, user.login_key, now);
  return revokeDevices(db, user.login_key, now, kept);
}

/**
 * The account's state in words (console, `famos user show`) at `now`: enabled, disabled, or waiting
 * for a new password. A temporary password that ran out on its own (by signInBarred's comparison, so
 * the line and the sign-in never disagree) says when, not "valid until" a time already past.
 */
export function accessText(t: Translator, user: User, now: number): string {
  if (user.disabled_at !== null) {
    // Disabled by a partner's import --sync: an import placing them at another partner enables them again
    // (enablesAgain, support/import-movers.ts), which support must know before relying on the disable.
    const partner = user.sync_disabled_partner ?? null;
    if (partner !== null) return t.text("console.access.disabledBySync", { since: t.dateTime(user.disabled_at), partner });
    return t.text("console.access.disabled", { since: t.dateTime(user.disabled_at) });
  }
  const until = user.password_temporary_until;
  if (until !== null && until <= 0) return t.text("console.access.temporaryUsed");
  if (until !== null && signInBarred(user, now) !== null) return t.text("console.access.temporaryRanOut", { until: t.dateTime(until) });
  if (until !== null) return t.text("console.access.temporary", { until: t.dateTime(until) });
  return t.text("console.access.enabled");
}
