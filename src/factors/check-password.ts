import type { Kysely } from "kysely";
import { reopensAtStart, sameAccess, signInBarred } from "../account/access.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../password/hash.ts";
import { identifyDevice } from "../regulation/devices.ts";
import { attemptSucceeded, attemptVoid, lockToldOnceRight, reserveAttempt, type Pause } from "../regulation/throttle.ts";
import { countWrongAttempt } from "../regulation/wrong-attempt.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Database } from "../store/schema.ts";
import { loginDigest, typedLoginSubject } from "../users/login-digest.ts";
import { findUserByLogin, findUserTakingTurns, loginKey, setPasswordHash, type User } from "../users/users.ts";
import { MAX_LOGIN_ID_LENGTH, MAX_PASSWORD_LENGTH } from "./limits.ts";

/** Why the password is asked: the sign-in, or again on Profile or the console before a sensitive change (ASVS 3.7.1). */
export type PasswordPurpose = "signin" | "email-change" | "password-change" | "factor-change" | "console-step-up";

export type PasswordCheck<T = undefined> =
  /** `value`: what the caller's AfterPassword wrote (undefined without one). */
  | { kind: "ok"; user: User; loginKey: string; deviceId: string | null; value: T }
  /** Unknown login ID or wrong password; `pause` when this failure put one in force for this client. */
  | { kind: "wrong"; pause: Pause | null }
  /**
   * Refused unverified while a pause applies. Which pause and until when depend on the login ID as
   * typed, the browser and the address only, never on whether an account exists: telling them
   * enumerates nothing.
   */
  | { kind: "paused"; pause: Pause };

/**
 * The password factor, one home for every flow that asks for it (sign-in, Profile): pause → reserve
 * the attempt → verify → count or release → audit → tell the holder of a new lock → upgrade the hash.
 * The attempt is counted *before* the argon2 verification, so a burst of guesses in parallel gets at
 * most FAMOS_LOCK_AFTER of them verified (issue 19.1). Every refusal that verifies does the same
 * work, one argon2id verification, so the time says nothing about the account (ASVS 2.2.1); a pause
 * refuses at once without it (SPEC "Locks": a refused attempt does not sleep on the server).
 * A right password is settled (its count cleared, the hash upgraded, audited) in one transaction,
 * with the caller's own writes when it passes `after` (issue 17: one commit, not three).
 */
export async function checkPassword<T = undefined>(
  deps: Deps,
  input: {
    loginId: string;
    password: string;
    purpose: PasswordPurpose;
    user?: User;
    /** Whether a temporary password spent before the user's wave signs in again now (signInBarred's `reopened`); asked only for such an account. */
    reopens?: (user: User, now: number) => Promise<boolean>;
  },
  ctx: RequestContext,
  after?: AfterPassword<T>,
): Promise<PasswordCheck<T>> {
  const now = deps.clock.now();
  const key = loginKey(input.loginId);
  const typed = input.loginId.slice(0, MAX_LOGIN_ID_LENGTH);
  // Whether an account has the login ID, once looked up: until then, and when none has it, the trail
  // keeps its digest, never the text typed (src/users/login-digest.ts: it may be the password).
  let digest = "";
  let hasAccount = false;
  const entry = (event: "password.ok" | "password.failed", detail: Record<string, string | boolean>): AuditEntry => {
    const subject = typedLoginSubject(deps.keys, key, hasAccount, digest);
    return {
      event,
      actor: subject,
      subject,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      // The subject is the normalised login key (what locks); the form typed goes along, for an account's own login ID only.
      detail: { ...detail, ...(hasAccount && typed !== key ? { typed } : {}), ...(input.purpose !== "signin" ? { during: input.purpose } : {}) },
    };
  };
  const audit = (event: "password.ok" | "password.failed", detail: Record<string, string | boolean>, db: Kysely<Database> = deps.db) => recordAudit(db, now, entry(event, detail));

  if (key === "" || key.length > MAX_LOGIN_ID_LENGTH || input.password.length === 0 || input.password.length > MAX_PASSWORD_LENGTH) {
    await burnPasswordCheck(input.password.slice(0, MAX_PASSWORD_LENGTH));
    return { kind: "wrong", pause: null };
  }

  // One keyed hash for every attempt, known login ID or not: the counters are keyed by it.
  digest = loginDigest(deps.keys, key);
  const deviceId = await identifyDevice(deps, ctx.deviceTokens ?? [], key, now, ctx.deviceReads);
  const subject = { loginKey: digest, ip: ctx.ip, deviceId };
  const reservation = await reserveAttempt(deps.db, "password", subject, now, deps.config);
  if (!reservation.ok) {
    // Looked up for the trail's subject alone (an account's login ID, or a digest), whether or not one has it.
    hasAccount = (input.user ?? (await findUserByLogin(deps.db, key))) !== undefined;
    await audit("password.failed", { reason: "locked", pause: reservation.pause.scope });
    return { kind: "paused", pause: reservation.pause };
  }

  let found = input.user ?? (await findUserByLogin(deps.db, key));
  hasAccount = found !== undefined;
  for (let check = 1; ; check += 1) {
    // A disabled account, or one whose temporary password ran out, is answered as an unknown one (issue 11).
    const reopened = found && reopensAtStart(found) && input.reopens ? await input.reopens(found, now) : false;
    const barred = found ? signInBarred(found, now, reopened) : null;
    const user = barred ? undefined : found;
    const verdict = user ? await verifyPassword(user.password_hash, input.password) : (await burnPasswordCheck(input.password), null);
    if (verdict?.busy) {
      // The legacy pool did not evaluate it (password/legacy-pool.ts): nothing was guessed, so nothing counts.
      await attemptVoid(deps.db, reservation);
      await audit("password.failed", { reason: "busy" });
      return { kind: "wrong", pause: null };
    }
    if (!user || !verdict?.ok) {
      const failure = await countWrongAttempt(deps, reservation, user, entry("password.failed", { reason: barred ?? (user ? "wrong-password" : "unknown-login-id") }), now);
      return { kind: "wrong", pause: failure.pause };
    }

    // The right password of a login ID its wrong codes locked (until support unlocks, or paused): told
    // now, and only now (lockToldOnceRight); audited as a refusal, with the password known to support.
    const told = lockToldOnceRight(reservation);
    if (told) {
      await attemptVoid(deps.db, reservation);
      await audit("password.failed", { reason: "locked", pause: told.scope, rightPassword: true });
      return { kind: "paused", pause: told };
    }
    // Hashing and the caller's reads come first: the transaction holds SQLite's one connection.
    const upgraded = verdict.needsUpgrade ? await hashPassword(input.password) : null;
    // The caller's writes (a code, a flow, a session) take the time the password was found right, not
    // the request's arrival: the wait for a hash under load must not come off a code's 15 minutes, nor
    // count as the code mail's delivery time (famos_code_to_smtp_seconds).
    const write = after ? await after(user, deps.clock.now()) : null;
    const settled = await deps.db.transaction().execute(async (tx) => {
      // The account as it is now, its row taken first (the one order of locks, store/take-turns.ts).
      // It was read before the verification, tens of milliseconds ago: a leaver disabled, a password
      // replaced or an OTP email reset in the meantime must hold, so a changed account is checked
      // again, as a request that came a moment later would be, and nothing is written for the old one.
      const current = await findUserTakingTurns(tx, deps.dialect, user.id);
      if (!current || !sameForSignIn(user, current)) return { changed: current ?? null };
      await attemptSucceeded(tx, reservation);
      if (upgraded !== null) await setPasswordHash(tx, user.id, upgraded, now);
      await audit("password.ok", {}, tx);
      return { value: write ? await write(tx) : undefined };
    });
    if ("value" in settled) return { kind: "ok", user, loginKey: key, deviceId, value: settled.value as T };
    if (check === MAX_CHECKS) {
      // Changed again during each check (a script rewriting the account?): refused uncounted, as busy.
      await attemptVoid(deps.db, reservation);
      await audit("password.failed", { reason: "account-changing" });
      return { kind: "wrong", pause: null };
    }
    found = settled.changed ?? undefined;
  }
}

/** A check whose account changed under it is made again at most this many times in all. */
const MAX_CHECKS = 3;

/**
 * Whether the account still signs in as it did when its password was checked: the same access
 * (sameAccess: login key, password hash, disabled, temporary password, OTP email), and the same
 * pending address, role, partner and language, which decide the next step. The time of the last
 * sign-in changes with every sign-in and decides nothing.
 */
function sameForSignIn(seen: User, current: User): boolean {
  return (
    sameAccess(seen, current) &&
    seen.pending_email === current.pending_email &&
    seen.role === current.role &&
    seen.partner_number === current.partner_number &&
    (seen.locale ?? null) === (current.locale ?? null)
  );
}

/**
 * What a caller does once the password is right: it reads what it needs to decide (outside any
 * transaction, with the time the password was found right), and returns the writes that go into the
 * transaction that settles the password. Those must use `tx` alone: SQLite has one connection, which
 * `tx` holds.
 */
export type AfterPassword<T> = (user: User, now: number) => Promise<(tx: Kysely<Database>) => Promise<T>>;
