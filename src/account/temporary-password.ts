import { timingSafeEqual } from "node:crypto";
import { userTranslator } from "../i18n/translator.ts";
import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { hashPassword } from "../password/hash.ts";
import { checkNewPassword } from "../password/policy.ts";
import { hmacHex, type Keys } from "../platform/keys.ts";
import type { Random } from "../platform/random.ts";
import type { Session, Stage } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import { actingNow, refusal, type Acting, type Refusal } from "../support/acting.ts";
import { findUserById, findUserTakingTurns, type User } from "../users/users.ts";
import { endAccessForNewPassword, endUserAccess } from "./access.ts";
import { temporaryPasswordMail } from "./messages.ts";

/** No 0/O, 1/l/I: read out over the phone without doubt. 32 symbols, 5 bits each. */
const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

/** Four groups of four (80 bits): far beyond guessing within the locks, typed in a minute. */
export function generateTemporaryPassword(random: Random): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g += 1) {
    let group = "";
    for (let i = 0; i < 4; i += 1) group += ALPHABET[random.int(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join("-");
}

export type TemporaryPasswordOutcome =
  | { kind: "set"; user: User; expiresAt: number; sessionsEnded: number }
  | { kind: "invalid"; message: string }
  | { kind: "disabled"; message: string }
  | { kind: "not-found" }
  | Stale
  | Refusal;

/**
 * The form was shown before the account's password last changed: nothing is set. `setAt`: when the
 * temporary password that works now was set (a second click, another tab), or null when the password
 * changed otherwise (the user chose one, or it is spent).
 */
export type Stale = { kind: "stale"; setAt: number | null };

/**
 * The stamp the console's temporary-password form carries (a hidden field): the account's password
 * as it was when the form was shown, for this support person and this account. A second submission
 * of one form (a double click, two tabs) finds the password changed by the first and sets nothing, so
 * the only password shown is the one that works (optimistic concurrency: no migration, no server
 * state). Not a secret (CSRF still guards the form), but keyed (keys.formStamp), so the page does not
 * show a digest of the password hash, and one person's form is not another's.
 */
export function temporaryPasswordFormStamp(keys: Keys, by: Acting, user: Pick<User, "id" | "password_hash">): string {
  return hmacHex(keys.formStamp, `temporary-password\0${by.user?.id ?? by.audit.actor}\0${user.id}\0${user.password_hash}`).slice(0, 32);
}

/** Whether a form stamped `stamp` is out of date for `user` as it is now: stale, or null when it still fits. */
export function staleTemporaryPasswordForm(keys: Keys, by: Acting, user: User, stamp: string, now: number): Stale | null {
  const expected = Buffer.from(temporaryPasswordFormStamp(keys, by, user));
  const given = Buffer.from(stamp);
  if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  const live = user.password_temporary_until !== null && user.password_temporary_until > now;
  return { kind: "stale", setAt: live ? user.updated_at : null };
}

/**
 * Why a temporary password would be no use now, or null. A disabled account (a leaver) is answered as
 * a wrong password whatever is typed (signInBarred, account/access.ts), so a temporary password read
 * out over the phone would only fail for the user and leave support guessing; enabling comes first.
 * The console's page (where the link would be), its steps and `famos user set-password` all ask this.
 */
export function temporaryPasswordBarred(user: Pick<User, "disabled_at">): string | null {
  return user.disabled_at === null ? null : "This account is disabled, so no password lets it sign in: enable it first, then set a temporary password.";
}

/**
 * Support sets a temporary password (issue 11): usable for one sign-in until FAMOS_TEMP_PASSWORD_TTL,
 * after which "Choose a new password" comes before anything else. Every session, pending code and
 * device cookie of the account ends, and its OTP email is told. The password itself is never stored or audited.
 */
export async function setTemporaryPassword(
  deps: Deps,
  by: Acting,
  userId: string,
  password: string,
  ticket: string | null = null,
  /** The console form's stamp (temporaryPasswordFormStamp); null for `famos user set-password`, one process per call. */
  formStamp: string | null = null,
): Promise<TemporaryPasswordOutcome> {
  const found = await findUserById(deps.db, userId);
  if (!found) return { kind: "not-found" };
  const early = refusal(by, found, "password");
  if (early) return early;
  const barred = temporaryPasswordBarred(found);
  if (barred) return { kind: "disabled", message: barred };
  const policy = checkNewPassword(password, { loginId: found.login_id, name: found.full_name });
  if (!policy.ok) return { kind: "invalid", message: policy.message };
  // A form already out of date (the second of two tabs, a form left open) costs no argon2id hash: the
  // same check, on the account as read above. The one in the transaction stays: it orders a double click.
  const staleEarly = formStamp === null ? null : staleTemporaryPasswordForm(deps.keys, by, found, formStamp, deps.clock.now());
  if (staleEarly) return staleEarly;
  const hash = await hashPassword(password);

  const now = deps.clock.now();
  const expiresAt = now + deps.config.lifecycle.temporaryPasswordTtlMs;
  const outcome = await deps.db.transaction().execute(async (tx) => {
    // Checked again inside the transaction: the target's role or account, or the acting person's
    // role (actingNow), may have changed while hashing. Its row taken (PostgreSQL), so a second
    // submission of the same form waits for the first and reads the password it set.
    const target = await findUserTakingTurns(tx, deps.dialect, userId);
    if (!target) return { kind: "not-found" as const };
    const refused = refusal(await actingNow(tx, by), target, "password");
    if (refused) return refused;
    // Disabled while the password was hashed: nothing is set.
    const barredNow = temporaryPasswordBarred(target);
    if (barredNow) return { kind: "disabled" as const, message: barredNow };
    const stale = formStamp === null ? null : staleTemporaryPasswordForm(deps.keys, by, target, formStamp, now);
    if (stale) return stale;
    await tx.updateTable("users").set({ password_hash: hash, password_temporary_until: expiresAt, updated_at: now }).where("id", "=", target.id).execute();
    const told = {
      kind: "notice.temporary-password",
      recipient: target.otp_email,
      mail: () => temporaryPasswordMail({ loginId: target.login_id, at: now, until: expiresAt, t: userTranslator(deps.config, target), supportEmail: deps.config.supportEmail }),
    } as const;
    const ended = await endAccessForNewPassword(deps, tx, target, now, "temporary-password", told);
    const sessionsEnded = ended.sessions;
    await recordAudit(tx, now, { ...by.audit, event: "password.temporary-set", subject: target.login_id, detail: { until: expiresAt, sessionsEnded, devicesForgotten: ended.devices, ticket } });
    return { kind: "set" as const, user: target, expiresAt, sessionsEnded };
  });
  if (outcome.kind === "set") deps.mailQueued();
  return outcome;
}

/**
 * Where a session goes once its sign-in is complete: "full", or "password" when the user signed in
 * with a temporary password, which is then used up (it works once; issue 11) — in the caller's
 * transaction, so the sign-in and the temporary password are spent together. The one home of that
 * rule for every way a sign-in completes: a second factor confirmed (code-step's finishSignIn), and
 * the rollout's password-only ways, before the user's wave (signInBeforeWave) and "Later" (useGrace).
 * Before, those two opened the portal with a temporary password that was never used up: whoever read
 * it (the ticket, the phone call) could sign in with it until it ran out, and its user was never
 * asked for a password of their own. What it ends is audited as the sign-in's (`origin`): session.ended,
 * how many other sessions and codes, as "End all other sessions" says how many; nothing ended, no line.
 */
export async function stageAfterSignIn(
  tx: Kysely<Database>,
  user: User,
  now: number,
  origin: { ip: string; userAgent: string },
  keep?: Pick<Session, "id" | "flow_id">,
  /**
   * A sign-in before the user's wave: its session ends at the start (SECURITY.md 18), so the password is
   * spent until then only (`-until`): from the start it signs in once more, with the second factor
   * (signInBarred's `reopened`), and a user who had not chosen by the start does not need support again.
   */
  beforeWave = false,
): Promise<Stage> {
  const until = user.password_temporary_until;
  if (until === null) return "full";
  // Spent only from the state `user` holds (positive, or spent before the wave); one spent since stays as it is.
  const spentAs = beforeWave && until > 0 ? -until : 0;
  const spent = await tx.updateTable("users").set({ password_temporary_until: spentAs }).where("id", "=", user.id).where("password_temporary_until", "=", until).where("password_temporary_until", "<>", 0).executeTakeFirst();
  // Used up here: every other sign-in half-way with it ends (setting it ended all before, so each live
  // one was made with it), with its codes. The password step does not spend it, so two browsers could
  // reach "User profile" or OTP capture with it, and the second "Later" led to "Choose a new password"
  // too: whoever read the ticket could choose the account's password after its owner.
  if (Number(spent.numUpdatedRows) === 1) {
    const ended = await endUserAccess(tx, user.id, now, "temporary-password-used", keep);
    if (ended.sessions + ended.codes > 0) {
      const detail = { reason: "temporary-password-used", others: ended.sessions, codesVoided: ended.codes };
      await recordAudit(tx, now, { event: "session.ended", actor: user.login_id, subject: user.login_id, ip: origin.ip, userAgent: origin.userAgent, detail });
    }
  }
  return "password";
}
