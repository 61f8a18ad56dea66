import type { Kysely } from "kysely";
import { sql } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { Config } from "../config/config.ts";
import type { Database } from "../store/schema.ts";
import { addressKey } from "./address.ts";

/** Wrong passwords and wrong codes are counted apart (SPEC "Locks"). */
export type FailureKind = "password" | "code";

export interface Subject {
  /** The login ID as submitted, lower-cased; counted whether or not an account has it. */
  loginKey: string;
  /** The client address (an IPv6 address counts by its /64, see addressKey). */
  ip: string;
}

export type LockState =
  /** `counting`: failures of that kind are being counted, so a success has a run to end. */
  | { locked: false; counting: Record<FailureKind, boolean> }
  | { locked: true; until: number | null };

/**
 * The counters of one kind of failure: one per login ID (as submitted, existing or not) and one per
 * client address, both on the same schedule (SPEC "Locks"). The login ID's lock refuses that login
 * ID from everywhere; the address's refuses everything from that address, which stops one address
 * spraying a common password over many login IDs (NIST SP 800-63B 5.2.2).
 */
export function counterKeys(kind: FailureKind, subject: Subject): { id: string; address: string } {
  return { id: `${kind}:id:${subject.loginKey}`, address: `${kind}:ip:${addressKey(subject.ip)}` };
}

/**
 * Is this login ID, or this address, refused for now? Either kind of lock refuses both steps. A lock
 * is only read here, never extended, and nobody waits: the caller answers at once (SPEC "Locks").
 */
export async function lockState(db: Kysely<Database>, subject: Subject, now: number): Promise<LockState> {
  const password = counterKeys("password", subject);
  const code = counterKeys("code", subject);
  const rows = await db
    .selectFrom("throttles")
    .select(["key", "locked_until", "hard_locked"])
    .where("key", "in", [password.id, password.address, code.id, code.address])
    .execute();
  if (rows.some((r) => r.hard_locked === 1)) return { locked: true, until: null };
  const until = Math.max(0, ...rows.map((r) => Number(r.locked_until)));
  if (until > now) return { locked: true, until };
  const has = (keys: { id: string; address: string }) => rows.some((r) => r.key === keys.id || r.key === keys.address);
  return { locked: false, counting: { password: has(password), code: has(code) } };
}

/**
 * The lock after `failures` consecutive failures: none below the threshold, then the base duration
 * doubling with each further failure, capped (SPEC: 5 failures → 1 minute, doubling, at most 1 hour).
 */
export function lockDuration(failures: number, lock: Pick<Config["lock"], "after" | "baseMs" | "maxMs">): number {
  if (failures < lock.after) return 0;
  const doublings = Math.min(failures - lock.after, 40);
  return Math.min(lock.maxMs, lock.baseMs * 2 ** doublings);
}

export interface FailureResult {
  /** This failure started a lock of the login ID (nothing was in force): its holder is emailed once. */
  lockStarted: boolean;
  /** The login ID is (now) locked until support unlocks it. */
  hardLocked: boolean;
  /** Consecutive failures of this kind for the login ID, this one included. */
  failures: number;
  /** When the login ID's lock ends (0: no lock; Infinity when hard-locked). */
  lockedUntil: number;
}

/**
 * Counts one failure against the login ID and the address, each with one atomic upsert that returns
 * the new count, so parallel requests on any instance all count (50 at once count 50). A lock is set
 * by a conditional update: only the request that finds no lock in force "starts" it (one email,
 * one audit event), and a lock is never shortened by a slower request with a smaller count.
 */
export async function recordFailure(
  db: Kysely<Database>,
  kind: FailureKind,
  subject: Subject,
  now: number,
  lock: Config["lock"],
): Promise<FailureResult> {
  const keys = counterKeys(kind, subject);
  const failures = await bump(db, keys.id, now);
  const addressFailures = await bump(db, keys.address, now);

  const idUntil = now + lockDuration(failures, lock);
  const started = failures >= lock.after && (await setLock(db, keys.id, now, idUntil));
  // At FAMOS_CODE_HARD_LOCK wrong codes the account stays locked until support unlocks it; wrong
  // passwords never do this, so a stranger who knows only a login ID cannot (SPEC "Locks").
  const hardStarted = kind === "code" && failures >= lock.codeHardLock && (await setHardLock(db, keys.id, now));
  const hardLocked = kind === "code" && failures >= lock.codeHardLock;
  const addressStarted = addressFailures >= lock.after && (await setLock(db, keys.address, now, now + lockDuration(addressFailures, lock)));

  const audit = (scope: string, count: number, until: number | null) =>
    recordAudit(db, now, {
      event: "lock.started",
      actor: null,
      subject: scope === "address" ? null : subject.loginKey,
      ip: subject.ip,
      userAgent: null,
      detail: { kind, scope, failures: count, until },
    });
  if (hardStarted) await audit("login-id-until-unlocked", failures, null);
  else if (started) await audit("login-id", failures, idUntil);
  if (addressStarted) await audit("address", addressFailures, now + lockDuration(addressFailures, lock));

  return {
    lockStarted: started || hardStarted,
    hardLocked,
    failures,
    lockedUntil: hardLocked ? Infinity : failures >= lock.after ? idUntil : 0,
  };
}

async function bump(db: Kysely<Database>, key: string, now: number): Promise<number> {
  const row = await db
    .insertInto("throttles")
    .values({ key, failures: 1, locked_until: 0, hard_locked: 0, updated_at: now })
    .onConflict((oc) => oc.column("key").doUpdateSet({ failures: sql`throttles.failures + 1`, updated_at: now }))
    .returning("failures")
    .executeTakeFirstOrThrow();
  return Number(row.failures);
}

/** Starts a lock when none is in force (true), else lengthens the one in force to `until` if later. */
async function setLock(db: Kysely<Database>, key: string, now: number, until: number): Promise<boolean> {
  const started = await db
    .updateTable("throttles")
    .set({ locked_until: until })
    .where("key", "=", key)
    .where("locked_until", "<=", now)
    .where("hard_locked", "=", 0)
    .executeTakeFirst();
  if (Number(started.numUpdatedRows) === 1) return true;
  await db.updateTable("throttles").set({ locked_until: until }).where("key", "=", key).where("locked_until", "<", until).execute();
  return false;
}

async function setHardLock(db: Kysely<Database>, key: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("throttles")
    .set({ hard_locked: 1, updated_at: now })
    .where("key", "=", key)
    .where("hard_locked", "=", 0)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * A success ends the run of consecutive failures of that kind, for the login ID and the address: a
 * right password resets only the password counters, a confirmed code only the code counters, so
 * neither Regenerate nor a new sign-in resets the count of wrong codes (SPEC "Tries"). A permanent
 * lock is left for support.
 */
export async function recordSuccess(db: Kysely<Database>, kind: FailureKind, subject: Subject): Promise<void> {
  const keys = counterKeys(kind, subject);
  await db.deleteFrom("throttles").where("key", "in", [keys.id, keys.address]).where("hard_locked", "=", 0).execute();
}

/** Support's "Unlock": clears every counter and lock of the login ID, the permanent one included. */
export async function unlockLogin(db: Kysely<Database>, loginKey: string): Promise<boolean> {
  const result = await db
    .deleteFrom("throttles")
    .where("key", "in", [`password:id:${loginKey}`, `code:id:${loginKey}`])
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The lock of one login ID for support's view: failures of each kind and when the lock ends. */
export async function loginLockInfo(db: Kysely<Database>, loginKey: string, now: number) {
  const rows = await db
    .selectFrom("throttles")
    .selectAll()
    .where("key", "in", [`password:id:${loginKey}`, `code:id:${loginKey}`])
    .execute();
  const find = (kind: FailureKind) => rows.find((r) => r.key === `${kind}:id:${loginKey}`);
  const hard = rows.some((r) => r.hard_locked === 1);
  const until = Math.max(0, ...rows.map((r) => Number(r.locked_until)));
  return {
    passwordFailures: find("password")?.failures ?? 0,
    codeFailures: find("code")?.failures ?? 0,
    hardLocked: hard,
    lockedUntil: until > now ? until : null,
    locked: hard || until > now,
  };
}
