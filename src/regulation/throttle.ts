import type { Kysely } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { Config } from "../config/config.ts";
import type { Database } from "../store/schema.ts";
import { addressAllowed } from "../web/ip-allow.ts";
import { counterKey, type FailureKind } from "./counter-key.ts";
import { clear, giveBack, readCounters, reserve, type Counted, type CounterPolicy, type RefusingKeys, type ToldLock } from "./counter.ts";

export { lockDuration } from "./counter.ts";

export { counterKey, type FailureKind } from "./counter-key.ts";

/**
 * Whether a kind's failures count on the client address (password spraying, NIST SP 800-63B 5.2.2):
 * those a stranger can try across login IDs with nothing but a login ID. Wrong passwords do, and so do
 * the reset's wrong codes: its code step needs no password, so guessing there across login IDs is
 * spraying too. A wrong second-factor code ("code": emailed, app, recovery code, passkey) does not: it
 * can only be tried after the right password, each code is void after FAMOS_OTP_TRIES, and the login
 * ID's code counter pauses and at FAMOS_CODE_HARD_LOCK locks it. Counted on the address, ten colleagues
 * on new browsers typing five wrong codes each paused sign-in for every new browser at their dealership
 * (SPEC "Locks": one person's typos must never keep colleagues out). The address's pause still refuses
 * every kind: this decides only what is counted.
 */
const COUNTS_ON_ADDRESS: Readonly<Record<FailureKind, boolean>> = { password: true, code: false, reset: true };

/** Every kind, for what reads or clears all of a login ID's counters (support's view and Unlock, erasure). */
export const FAILURE_KINDS: readonly FailureKind[] = ["password", "code", "reset"];
/** The kinds whose locks keep a login ID out of the sign-in (for new browsers, or for all once hard). */
export const SIGN_IN_KINDS: readonly FailureKind[] = ["password", "code"];

/** Which pause refuses a client: the login ID on new browsers, this browser, or this network. */
export type PauseScope = "login-id" | "device" | "address";
/** `until` null: until support unlocks (FAMOS_CODE_HARD_LOCK wrong codes). */
export interface Pause {
  scope: PauseScope;
  until: number | null;
}

export interface Subject {
  /**
   * The login ID as submitted, counted whether or not an account has it: the keyed digest of its login
   * key (src/users/login-digest.ts), never the text typed, which is now and then the password. This
   * module counts under whatever it is given; the factor steps give the digest.
   */
  loginKey: string;
  /** The client address (an IPv6 address counts by its /64, see addressKey). */
  ip: string;
  /** The browser's device for this login ID (a valid, unrevoked device cookie), or null: a new browser. */
  deviceId?: string | null;
}


type Settings = Pick<Config, "lock" | "address" | "deviceLockAfter">;

/**
 * The counters an attempt is counted on (SPEC "Locks"). A browser with a device cookie for the login
 * ID counts against that device alone (OWASP device cookies), so neither a stranger's guesses nor the
 * address's lock keep the owner out of her usual browser. Other clients count against the login ID,
 * and are refused by their address's pause unless FAMOS_TRUSTED_NETWORKS covers them; their wrong
 * passwords and reset codes also count on that address within its window (COUNTS_ON_ADDRESS), their
 * wrong second-factor codes never: one person's typos there never reach the address's threshold.
 */
function countersFor(kind: FailureKind, subject: Subject, settings: Settings) {
  const { lock, address } = settings;
  const untrusted = !subject.deviceId && !addressAllowed(subject.ip, address.trustedNetworks);
  const refusingAddress = untrusted
    ? { scope: "address" as const, key: counterKey.address(subject.ip), policy: { after: address.lockAfter, baseMs: lock.baseMs, maxMs: lock.maxMs, windowMs: address.windowMs, hardAfter: null } }
    : null;
  const countedAddress = COUNTS_ON_ADDRESS[kind] ? refusingAddress : null;
  return { ...ownCounters(kind, subject, settings), refusingAddress, countedAddress };
}

/** The login ID's or device's counter an attempt counts on, and the other counters whose locks refuse it. */
function ownCounters(kind: FailureKind, subject: Omit<Subject, "ip">, settings: Settings) {
  const { lock } = settings;
  const loginId = { after: lock.after, baseMs: lock.baseMs, maxMs: lock.maxMs, windowMs: null, hardAfter: kind === "password" ? null : lock.codeHardLock };
  // A device's wrong codes are its own, and so is its lock at FAMOS_CODE_HARD_LOCK (NIST SP 800-63B
  // 5.2.2: at most 100 consecutive failures): without it a thief at a browser where the owner signed
  // in, knowing her password, guessed her codes without end, FAMOS_DEVICE_LOCK_AFTER per pause.
  const primary = subject.deviceId
    ? { scope: "device" as const, key: counterKey.device(kind, subject.deviceId), policy: { ...loginId, after: settings.deviceLockAfter } }
    : { scope: "login-id" as const, key: counterKey.loginId(kind, subject.loginKey), policy: loginId };
  // Either sign-in kind's lock refuses both steps; the lock until support unlocks refuses every client.
  // The reset is refused by the sign-in's locks of the login ID as well as by its own; the sign-in is
  // never refused by the reset's.
  const alsoRefusing =
    kind === "reset"
      ? SIGN_IN_KINDS.map((k) => counterKey.loginId(k, subject.loginKey))
      : subject.deviceId
        ? [counterKey.device(kind === "password" ? "code" : "password", subject.deviceId), counterKey.loginId("code", subject.loginKey)]
        : [counterKey.loginId(kind === "password" ? "code" : "password", subject.loginKey)];
  return { primary, alsoRefusing };
}

type AddressCounter = { key: string; policy: CounterPolicy };

export type Reservation =
  /** `address`: the counter a failure adds to; null for a known browser, a trusted network, or a kind the address does not count. */
  | {
      ok: true;
      kind: FailureKind;
      subject: Subject;
      scope: PauseScope;
      primary: Counted;
      address: AddressCounter | null;
      /** The login ID's code counter's lock, which this step tells only once what was typed is right (lockToldOnceRight). */
      toldLock: Pause | null;
    }
  | { ok: false; pause: Pause };

/**
 * Before a password or code is verified: refuses at once while a pause applies to this client (no
 * sleeping, nothing counted or extended), else counts the attempt as a failure of the login ID or
 * device in the same statement that checks the limit (see reserve). The caller settles it:
 * attemptFailed, attemptSucceeded or attemptVoid. The address is counted only once a failure is
 * known: a hundred colleagues signing in at the same moment are a hundred attempts in flight, and
 * must not trip a lock meant for a hundred failures.
 */
export async function reserveAttempt(db: Kysely<Database>, kind: FailureKind, subject: Subject, now: number, settings: Settings): Promise<Reservation> {
  const { primary, refusingAddress, countedAddress, alsoRefusing } = countersFor(kind, subject, settings);
  // The other kind's locks and the address's are read, not reserved, in the statement that reserves
  // this kind's count (issue 17: they were a read of their own before it). Making the others' reads
  // count too would take both kinds in one row, or counting on each and giving the counts back on a
  // refusal (two writes per refused attempt, and a refusal's count briefly pausing its own counter).
  const keys = [primary.key, ...alsoRefusing, ...(refusingAddress ? [refusingAddress.key] : [])];
  const refusing = refusingKeys(kind, keys, subject, refusingAddress?.key ?? null);
  // A refused attempt runs this INSERT … ON CONFLICT too, and it must: the refusal IS this statement's
  // condition (no lock in force on any of `keys`), checked and counted at once, so that of a burst on
  // many instances at most `after` pass. A read first would be one statement more on every attempt that
  // passes, and a window between the read and the count. Refused, it changes no row (its SELECT yields
  // none, or its DO UPDATE's WHERE is false: refusal-matrix.test "a refusal writes nothing"); on SQLite
  // it takes the write lock for that moment only. A refused password's one real write is its audit line
  // (password.failed, reason "locked": SPEC "Audit", password failed), written by checkPassword
  // (flow-statements.unit "a paused login ID's refusal…" pins those two writes).
  const reserved = await reserve(db, primary.key, now, primary.policy, refusing);
  if (reserved) {
    const { told, ...counted } = reserved;
    return { ok: true, kind, subject, scope: primary.scope, primary: counted, address: countedAddress, toldLock: toldPause(told, subject, now) };
  }
  // Refused: which pause, read now (a refusal's own read; the lock that refused may have ended since).
  const states = await readCounters(db, keys);
  const hard = states.find((s) => s.hardLocked && refusing.hard.includes(s.key));
  if (hard) return { ok: false, pause: { scope: hard.key.includes(":dev:") ? "device" : "login-id", until: null } };
  const timed = states.filter((s) => s.lockedUntil > now && refusing.timed.includes(s.key));
  const inForce = timed.sort((a, b) => b.lockedUntil - a.lockedUntil)[0];
  if (inForce) return { ok: false, pause: { scope: scopeOfKey(inForce.key), until: inForce.lockedUntil } };
  return { ok: false, pause: await pauseOf(db, primary.key, primary.scope, now) };
}

/**
 * Which of an attempt's counters refuse it by their locks: a lock until support unlocks on any but the
 * address's; a timed lock on any, but for a known browser only on its device's own counters (the login
 * ID's timed lock is for new browsers). At the steps that need nothing but a login ID (the password,
 * the reset's code) the login ID's code counter refuses nothing, by either lock: it is `told`, read in
 * the same statement and told once right (lockToldOnceRight).
 */
function refusingKeys(kind: FailureKind, keys: readonly string[], subject: Subject, addressKey: string | null): RefusingKeys {
  const told = kind === "code" ? null : counterKey.loginId("code", subject.loginKey);
  return {
    hard: keys.filter((key) => key !== addressKey && key !== told),
    timed: keys.filter((key) => key !== told && (!subject.deviceId || key.includes(":dev:"))),
    told,
  };
}

/** The told counter's lock as this client meets it: until support unlocks, or its timed lock in force (new browsers only). */
function toldPause(told: ToldLock | undefined, subject: Subject, now: number): Pause | null {
  if (!told) return null;
  if (told.hardLocked) return { scope: "login-id", until: null };
  return !subject.deviceId && told.lockedUntil > now ? { scope: "login-id", until: told.lockedUntil } : null;
}

/**
 * The login ID's code counter's lock (FAMOS_CODE_HARD_LOCK wrong codes: until support unlocks; or the
 * timed pause FAMOS_LOCK_AFTER wrong codes start, the hard lock's own tail included), as the password
 * step and the reset's code step meet it: once what was typed is right, never before. Only wrong codes
 * start it, and only after the right password, so no login ID without an account ever has it: told
 * before the password was checked, it named a real account (whose password someone has) to whoever
 * typed the login ID alone (SPEC item 1). Until then the attempt is counted and answered as at any
 * account, so a wrong one pauses the login ID as an unknown one's would. Read by the reservation's own
 * statement (`told`).
 */
export function lockToldOnceRight(reservation: Extract<Reservation, { ok: true }>): Pause | null {
  return reservation.toldLock;
}

function scopeOfKey(key: string): PauseScope {
  return key.startsWith("ip:") ? "address" : key.includes(":dev:") ? "device" : "login-id";
}

async function pauseOf(db: Kysely<Database>, key: string, scope: PauseScope, now: number): Promise<Pause> {
  const [state] = await readCounters(db, [key]);
  if (state?.hardLocked) return { scope, until: null };
  // A lock that ended between the refusal and this read: "try again now" is the truth.
  return { scope, until: Math.max(now, state?.lockedUntil ?? now) };
}

export interface FailureResult {
  /** This failure started a lock of the login ID or device (nothing was in force): its holder is emailed once. */
  lockStarted: boolean;
  /** The login ID is (now) locked until support unlocks it. */
  hardLocked: boolean;
  /** Consecutive failures of this kind on the counter that refuses this client, this one included. */
  failures: number;
  /** When that lock ends (0: no lock; Infinity when hard-locked). */
  lockedUntil: number;
  /** The pause this client now meets, if this failure put one in force. */
  pause: Pause | null;
  /** Set (true) when the login ID was already locked until support unlocks (its code counter, told once right): its owner had that lock's mail. */
  underLockUntilUnlocked?: true;
}

/**
 * The attempt was wrong: it stays counted. A lock its count started is audited (once, by this request),
 * the login ID's as `loginSubject`: the attempt's own audit subject (an account's login key, or the
 * digest of one no account has), which only the caller knows once it has looked the account up.
 */
export async function attemptFailed(
  db: Kysely<Database>,
  reservation: Extract<Reservation, { ok: true }>,
  now: number,
  loginSubject: string | null = reservation.subject.loginKey,
): Promise<FailureResult> {
  const { kind, subject, scope, primary } = reservation;
  // Counted and locked in one statement; a lock that began meanwhile refuses the count (it is in force anyway).
  const address = reservation.address ? await reserve(db, reservation.address.key, now, reservation.address.policy) : null;
  const audit = (lockScope: string, failures: number, until: number | null, login: boolean) =>
    recordAudit(db, now, { event: "lock.started", actor: null, subject: login ? loginSubject : null, ip: subject.ip, userAgent: null, detail: { kind, scope: lockScope, failures, until } });
  if (primary.startedHardLock) await audit(`${scope}-until-unlocked`, primary.failures, null, true);
  else if (primary.startedLock) await audit(scope, primary.failures, primary.lockedUntil, true);
  if (address?.startedLock) await audit("address", address.failures, address.lockedUntil, false);
  const pause: Pause | null = primary.startedHardLock
    ? { scope, until: null }
    : primary.lockedUntil > 0
      ? { scope, until: primary.lockedUntil }
      : address && address.lockedUntil > 0
        ? { scope: "address", until: address.lockedUntil }
        : null;
  return {
    lockStarted: primary.startedLock || primary.startedHardLock,
    hardLocked: primary.startedHardLock,
    failures: primary.failures,
    lockedUntil: primary.startedHardLock ? Infinity : primary.lockedUntil,
    pause,
    ...(reservation.toldLock?.until === null ? { underLockUntilUnlocked: true as const } : {}),
  };
}

/**
 * The attempt was right. It ends its own run only — the login ID's or the device's — never the
 * address's, whose failures decay with the window alone: a valid staff password between guesses
 * must not wipe a spraying count (issue 19.2).
 */
export async function attemptSucceeded(db: Kysely<Database>, reservation: Extract<Reservation, { ok: true }>): Promise<void> {
  await clear(db, reservation.primary);
}

/** The attempt guessed nothing (the right code arriving twice): its counts are given back. */
export async function attemptVoid(db: Kysely<Database>, reservation: Extract<Reservation, { ok: true }>): Promise<void> {
  await giveBack(db, reservation.primary);
}

/** Counts one failure already known to be one (no verification to wait for); null when a pause refused it. */
export async function recordFailure(
  db: Kysely<Database>,
  kind: FailureKind,
  subject: Subject,
  now: number,
  settings: Settings,
  loginSubject: string | null = subject.loginKey,
): Promise<FailureResult | null> {
  const reservation = await reserveAttempt(db, kind, subject, now, settings);
  return reservation.ok ? attemptFailed(db, reservation, now, loginSubject) : null;
}

/**
 * Does any lock of the login ID hold right now on this kind's counter or the counters ownCounters adds
 * to it (for "reset": the reset's, the password's and the code's), timed or until support unlocks?
 * Reads only the login ID's counters, never a device's or an address's, whatever browser asks. The
 * reset's first step sends no code while one holds: a reset or password lock refuses step 2 outright in a
 * browser FAMOS does not know (refusingKeys: a known one meets the login ID's timed pauses only through
 * its device's counters, but this step 1 check holds for it all the same), and the code counter's lock,
 * which refuses nothing before, is told at step 2 once the code typed is right (lockToldOnceRight), so a
 * code sent then could never be used.
 */
export async function loginIdPaused(db: Kysely<Database>, kind: FailureKind, loginKey: string, now: number, settings: Settings): Promise<boolean> {
  const { primary, alsoRefusing } = ownCounters(kind, { loginKey, deviceId: null }, settings);
  const states = await readCounters(db, [primary.key, ...alsoRefusing]);
  return states.some((s) => s.hardLocked || s.lockedUntil > now);
}
