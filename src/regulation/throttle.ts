import { sql, type Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import type { Database } from "../store/schema.ts";

/** Wrong passwords and wrong codes are counted apart (SPEC "Locks"). */
export type FailureKind = "password" | "code";

export interface Subject {
  /** The login ID as submitted, lower-cased; counted whether or not an account has it. */
  loginKey: string;
  ip: string;
}

export type LockState = { locked: false } | { locked: true; until: number | null };

/**
 * A client address is shared by every member of staff at a dealership, so its counter needs more
 * failures before it locks than one login ID's does; it stops one address spraying many login IDs.
 */
export const ADDRESS_FACTOR = 4;

function keys(kind: FailureKind, subject: Subject): { id: string; ip: string } {
  return { id: `${kind}:id:${subject.loginKey}`, ip: `${kind}:ip:${subject.ip}` };
}

/** Is this login ID, or this address, refused for now? Reading a lock never extends it. */
export async function lockState(db: Kysely<Database>, subject: Subject, now: number): Promise<LockState> {
  const rows = await db
    .selectFrom("throttles")
    .select(["key", "locked_until", "hard_locked"])
    .where("key", "in", [...Object.values(keys("password", subject)), ...Object.values(keys("code", subject))])
    .execute();
  if (rows.some((r) => r.hard_locked === 1)) return { locked: true, until: null };
  const until = Math.max(0, ...rows.map((r) => r.locked_until));
  return until > now ? { locked: true, until } : { locked: false };
}

/**
 * The lock after `failures` consecutive failures: none below the threshold, then the base
 * duration doubling with each further failure, capped (NIST SP 800-63B 5.2.2 rate limiting).
 */
export function lockDuration(failures: number, threshold: number, lock: Config["lock"]): number {
  if (failures < threshold) return 0;
  const doublings = Math.min(failures - threshold, 30);
  return Math.min(lock.maxMs, lock.baseMs * 2 ** doublings);
}

export interface FailureResult {
  /** A lock began with this failure (the account holder is told by email). */
  lockStarted: boolean;
  hardLocked: boolean;
  failures: number;
}

/**
 * Counts one failure against the login ID and the address, atomically in the database (an upsert
 * that returns the new count), so parallel requests on any instance all count.
 */
export async function recordFailure(
  db: Kysely<Database>,
  kind: FailureKind,
  subject: Subject,
  now: number,
  lock: Config["lock"],
): Promise<FailureResult> {
  const k = keys(kind, subject);
  const id = await bump(db, k.id, now);
  const ip = await bump(db, k.ip, now);
  const idLock = lockDuration(id, lock.after, lock);
  const ipLock = lockDuration(ip, lock.after * ADDRESS_FACTOR, lock);
  const hardLocked = kind === "code" && id >= lock.codeHardLock;
  if (idLock > 0 || hardLocked) {
    await db
      .updateTable("throttles")
      .set({ locked_until: now + idLock, hard_locked: hardLocked ? 1 : 0 })
      .where("key", "=", k.id)
      .execute();
  }
  if (ipLock > 0) await db.updateTable("throttles").set({ locked_until: now + ipLock }).where("key", "=", k.ip).execute();
  return { lockStarted: id === lock.after || (hardLocked && id === lock.codeHardLock), hardLocked, failures: id };
}

async function bump(db: Kysely<Database>, key: string, now: number): Promise<number> {
  const row = await db
    .insertInto("throttles")
    .values({ key, failures: 1, locked_until: 0, hard_locked: 0, updated_at: now })
    .onConflict((oc) => oc.column("key").doUpdateSet({ failures: sql`throttles.failures + 1`, updated_at: now }))
    .returning("failures")
    .executeTakeFirstOrThrow();
  return row.failures;
}

/** A success ends the run of consecutive failures of that kind, for the login ID and the address. */
export async function recordSuccess(db: Kysely<Database>, kind: FailureKind, subject: Subject): Promise<void> {
  const k = keys(kind, subject);
  await db.deleteFrom("throttles").where("key", "in", [k.id, k.ip]).where("hard_locked", "=", 0).execute();
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
  const until = Math.max(0, ...rows.map((r) => r.locked_until));
  return {
    passwordFailures: find("password")?.failures ?? 0,
    codeFailures: find("code")?.failures ?? 0,
    hardLocked: hard,
    lockedUntil: until > now ? until : null,
    locked: hard || until > now,
  };
}
