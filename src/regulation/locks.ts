import type { Kysely } from "kysely";
import type { Keys } from "../platform/keys.ts";
import type { Database } from "../store/schema.ts";
import { loginDigest } from "../users/login-digest.ts";
import { addressKey } from "./address.ts";
import { readCounters } from "./counter.ts";
import { counterKey, type FailureKind } from "./counter-key.ts";
import { FAILURE_KINDS, SIGN_IN_KINDS } from "./throttle.ts";

/** What support sees and lifts (SPEC "Locks": "support sees and lifts locks of login IDs, devices and addresses"). */

export interface DeviceLock {
  deviceId: string;
  failures: number;
  lockedUntil: number | null;
  /** This browser is locked until support unlocks it (FAMOS_CODE_HARD_LOCK wrong codes there). */
  hardLocked: boolean;
}

export interface LoginLockInfo {
  passwordFailures: number;
  codeFailures: number;
  /** The sign-in is locked until support unlocks it (FAMOS_CODE_HARD_LOCK wrong codes). */
  hardLocked: boolean;
  /** When the login ID's lock for new browsers ends, if one is in force. */
  lockedUntil: number | null;
  /** The sign-in is locked for new browsers, or for every browser (hardLocked). */
  locked: boolean;
  /** The login ID's devices that have failures counted, and their locks. */
  devices: DeviceLock[];
  /**
   * The self-service reset's own counter (FailureKind "reset"): its wrong codes, and its lock, which
   * refuses the reset alone (until null: until support unlocks it).
   */
  reset: { failures: number; locked: boolean; until: number | null };
}

async function deviceIds(db: Kysely<Database>, loginKey: string): Promise<string[]> {
  const rows = await db.selectFrom("devices").select("id").where("login_key", "=", loginKey).execute();
  return rows.map((r) => r.id);
}

/**
 * `countedAs`: the identity the login ID's counters are kept under, as the factor steps gave it to
 * reserveAttempt (the keyed digest, src/users/login-digest.ts); this module counts under whatever it
 * is given. Outside this module's own tests, through accountLockInfo and unlockAccountCounters.
 */
export async function loginLockInfo(db: Kysely<Database>, loginKey: string, now: number, countedAs = loginKey): Promise<LoginLockInfo> {
  const ids = await deviceIds(db, loginKey);
  const deviceKeys = ids.flatMap((id) => FAILURE_KINDS.map((kind) => counterKey.device(kind, id)));
  const counted = (kind: FailureKind) => counterKey.loginId(kind, countedAs);
  const rows = await readCounters(db, [...FAILURE_KINDS.map(counted), ...deviceKeys]);
  const find = (key: string) => rows.find((r) => r.key === key);
  const resetRow = find(counted("reset"));
  // The sign-in's own locks of the login ID; the reset's is reported apart (`reset`).
  const own = SIGN_IN_KINDS.map((kind) => find(counted(kind))).filter((r) => r !== undefined);
  const hard = own.some((r) => r.hardLocked);
  const until = Math.max(0, ...own.map((r) => r.lockedUntil));
  const devices = ids
    .map((deviceId) => {
      const counters = FAILURE_KINDS.map((kind) => find(counterKey.device(kind, deviceId))).filter((r) => r !== undefined);
      const lockedUntil = Math.max(0, ...counters.map((r) => r.lockedUntil));
      const hardLocked = counters.some((r) => r.hardLocked);
      return { deviceId, failures: counters.reduce((sum, r) => sum + r.failures, 0), lockedUntil: !hardLocked && lockedUntil > now ? lockedUntil : null, hardLocked };
    })
    .filter((d) => d.failures > 0);
  const resetUntil = resetRow && resetRow.lockedUntil > now ? resetRow.lockedUntil : null;
  return {
    passwordFailures: find(counted("password"))?.failures ?? 0,
    codeFailures: find(counted("code"))?.failures ?? 0,
    hardLocked: hard,
    lockedUntil: until > now ? until : null,
    locked: hard || until > now,
    devices,
    reset: { failures: resetRow?.failures ?? 0, locked: resetRow?.hardLocked === true || resetUntil !== null, until: resetRow?.hardLocked ? null : resetUntil },
  };
}

/** Support's "Unlock": every counter and lock of the login ID and of its devices, the permanent one included. */
export async function unlockLogin(db: Kysely<Database>, loginKey: string, countedAs = loginKey): Promise<boolean> {
  const ids = await deviceIds(db, loginKey);
  const keys = [...FAILURE_KINDS.map((kind) => counterKey.loginId(kind, countedAs)), ...ids.flatMap((id) => FAILURE_KINDS.map((kind) => counterKey.device(kind, id)))];
  const result = await db.deleteFrom("throttles").where("key", "in", keys).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The database, and the key of the digest a login ID is counted under (src/users/login-digest.ts). */
export interface LoginCounters {
  db: Kysely<Database>;
  keys: Pick<Keys, "loginId">;
}

/** An account's locks as support sees them (console, `famos user show`): its login ID counted as the factor steps count it. */
export function accountLockInfo({ db, keys }: LoginCounters, loginKey: string, now: number): Promise<LoginLockInfo> {
  return loginLockInfo(db, loginKey, now, loginDigest(keys, loginKey));
}

/** Support's Unlock (console, `famos user unlock`) and erasure: the account's counters, found by its login ID's digest. */
export function unlockAccountCounters({ db, keys }: LoginCounters, loginKey: string): Promise<boolean> {
  return unlockLogin(db, loginKey, loginDigest(keys, loginKey));
}

export interface AddressLock {
  /** The address as counted: an IPv4 address, or an IPv6 /64. */
  address: string;
  failures: number;
  windowStartedAt: number;
  lockedUntil: number | null;
}

function toAddressLock(row: { key: string; failures: number; locked_until: number; window_started_at: number }, now: number): AddressLock {
  const until = Number(row.locked_until);
  return { address: row.key.slice(3), failures: Number(row.failures), windowStartedAt: Number(row.window_started_at), lockedUntil: until > now ? until : null };
}

/** The address's counter (failures in its window and its lock), or null when nothing is counted. */
export async function addressLockInfo(db: Kysely<Database>, ip: string, now: number): Promise<AddressLock | null> {
  const row = await db.selectFrom("throttles").select(["key", "failures", "locked_until", "window_started_at"]).where("key", "=", counterKey.address(ip)).executeTakeFirst();
  return row ? toAddressLock(row, now) : null;
}

/** Addresses locked for new browsers right now, the longest lock first. */
export async function activeAddressLocks(db: Kysely<Database>, now: number): Promise<AddressLock[]> {
  const rows = await db
    .selectFrom("throttles")
    .select(["key", "failures", "locked_until", "window_started_at"])
    .where("key", "like", "ip:%")
    .where("locked_until", ">", now)
    .orderBy("locked_until", "desc")
    .limit(500)
    .execute();
  return rows.map((row) => toAddressLock(row, now));
}

/** "Unlock address": clears the address's counter and lock. Returns what was lifted, or null. */
export async function unlockAddress(db: Kysely<Database>, ip: string, now: number): Promise<AddressLock | null> {
  const before = await addressLockInfo(db, ip, now);
  if (!before) return null;
  await db.deleteFrom("throttles").where("key", "=", counterKey.address(ip)).execute();
  return before;
}

/** The address as FAMOS counts it ("2001:db8::1" → its /64), for messages. */
export function countedAddress(ip: string): string {
  return addressKey(ip);
}
