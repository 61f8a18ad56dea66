import { sql, type Kysely, type RawBuilder } from "kysely";
import { preparedQueryFor } from "../store/prepared.ts";
import type { Database } from "../store/schema.ts";

/** How one counter locks: after `after` failures, `baseMs` doubling with each further one, at most `maxMs`. */
export interface CounterPolicy {
  after: number;
  baseMs: number;
  maxMs: number;
  /** Failures older than this no longer count (the address counter); null: a run until a success. */
  windowMs: number | null;
  /** Failures at which the counter locks until support unlocks it (wrong codes); null: never. */
  hardAfter: number | null;
}

/**
 * The lock after `failures` failures: none below the threshold, then the base duration doubling with
 * each further failure, capped (SPEC: 5 failures → 1 minute, doubling, at most 1 hour).
 */
export function lockDuration(failures: number, policy: Pick<CounterPolicy, "after" | "baseMs" | "maxMs">): number {
  if (failures < policy.after) return 0;
  const doublings = Math.min(failures - policy.after, 40);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
}

/** One counted attempt: what a reservation wrote, so it can be settled exactly. */
export interface Counted {
  key: string;
  failures: number;
  /** The lock this attempt's count put in force (0: none). Set before verifying, so a burst stops at once. */
  lockedUntil: number;
  /** This attempt started the lock (none was in force before it). */
  startedLock: boolean;
  startedHardLock: boolean;
  windowStartedAt: number;
}

/**
 * Counts an attempt as a failure *before* it is verified, in one conditional statement that refuses
 * while a lock is in force and sets the lock its own count earns (ASVS 2.2.1; STYLE rule 12). So
 * however many requests arrive at once, on however many instances, at most `after` are ever let
 * through to be verified before the lock; the attempt that turns out right gives its count back.
 * Returns null when refused: by the counter's own lock, or by a lock in force on one of `refusedBy`'s
 * counters, read in the same statement (issue 17: the sign-in's read of the other counters and its
 * reservation were two statements).
 */
export async function reserve(db: Kysely<Database>, key: string, now: number, policy: CounterPolicy, refusedBy: RefusingKeys = NONE): Promise<(Counted & { told?: ToldLock }) | null> {
  const told = refusedBy.told ?? null;
  const shape = { ...shapeOf(policy), hard: refusedBy.hard.length, timed: refusedBy.timed.length, told: told === null ? 0 : 1 };
  const [row] = await reserveStatement(shape, db, key, now, ...refusedBy.hard, ...refusedBy.timed, ...(told === null ? [] : [told]));
  if (!row) return null;
  const lockedUntil = Number(row.locked_until);
  return {
    // Only when asked (`told`): that counter's lock, until support unlocks (-1) or until when (0: none).
    ...(told === null ? {} : { told: { hardLocked: Number(row.told_lock) < 0, lockedUntil: Math.max(0, Number(row.told_lock)) } }),
    key,
    failures: Number(row.failures),
    lockedUntil: lockedUntil > now ? lockedUntil : 0,
    // The statement only passes when no lock was in force, so a lock it leaves is one it started.
    startedLock: lockedUntil > now,
    startedHardLock: Number(row.hard_locked) === 1,
    windowStartedAt: Number(row.window_started_at),
  };
}

/** The lock of the counter a reservation was asked to read (`told`), as it stood in the reservation's statement. */
export interface ToldLock {
  hardLocked: boolean;
  /** When its timed lock ends (0: none was ever set; compare with the time). */
  lockedUntil: number;
}

/**
 * Other counters whose lock refuses the attempt: `hard`, those whose lock until support unlocks does;
 * `timed`, those whose timed lock does (throttle.ts decides which; see refusingKeys there).
 */
export interface RefusingKeys {
  hard: readonly string[];
  timed: readonly string[];
  /** A counter whose locks (until support unlocks, or timed) refuse nothing here but are read, in the same statement, for the caller to tell once right. */
  told?: string | null;
}

const NONE: RefusingKeys = { hard: [], timed: [] };

/** The policy's fields that shape the statement (a policy object may carry more). */
function shapeOf(policy: CounterPolicy): CounterPolicy {
  return { after: policy.after, baseMs: policy.baseMs, maxMs: policy.maxMs, windowMs: policy.windowMs, hardAfter: policy.hardAfter };
}

// Issue 17: twice per sign-in; built and compiled once per policy (the key and the time are its values).
const reserveStatement = preparedQueryFor((policy: CounterPolicy & { hard: number; timed: number; told: number }, db, key: string, now: number, ...others: string[]) => {
  const at = big(now);
  const plus = (ms: number) => sql<number>`(${at} + ${big(ms)})`;
  const hardKeys = others.slice(0, policy.hard);
  const timedKeys = others.slice(policy.hard, policy.hard + policy.timed);
  const toldKey = policy.told > 0 ? others[policy.hard + policy.timed]! : null;
  // Read beside the count, in its RETURNING: no statement of its own on the sign-in's path (flow-statements.unit).
  // -1: locked until support unlocks; else its timed lock's end (0 when there is no such row).
  const told =
    toldKey === null
      ? big(0)
      : sql<number>`COALESCE((SELECT CASE WHEN told.hard_locked = 1 THEN ${big(-1)} ELSE told.locked_until END FROM throttles AS told WHERE told.key = ${toldKey}), ${big(0)})`;
  // No other counter's lock in force (a key may stand in both lists: each list is its own condition).
  const inForce = [
    ...(hardKeys.length > 0 ? [sql<boolean>`(other.key IN (${sql.join(hardKeys)}) AND other.hard_locked = 1)`] : []),
    ...(timedKeys.length > 0 ? [sql<boolean>`(other.key IN (${sql.join(timedKeys)}) AND other.locked_until > ${at})`] : []),
  ];
  const unrefused = inForce.length === 0 ? sql<boolean>`1 = 1` : sql<boolean>`NOT EXISTS (SELECT 1 FROM throttles AS other WHERE ${sql.join(inForce, sql` OR `)})`;
  const expired = policy.windowMs === null ? sql<boolean>`1 = 0` : sql<boolean>`throttles.window_started_at <= (${at} - ${big(policy.windowMs)})`;
  const failures = sql<number>`(CASE WHEN ${expired} THEN 1 ELSE throttles.failures + 1 END)`;
  const hard = policy.hardAfter === null ? big(0) : sql<number>`(CASE WHEN ${failures} >= ${big(policy.hardAfter)} THEN 1 ELSE 0 END)`;
  const first = lockDuration(1, policy) > 0 ? plus(lockDuration(1, policy)) : big(0);
  // INSERT … SELECT: SQLite wants the WHERE for its upsert, PostgreSQL the casts (a SELECT's bound value is text).
  return db
    .insertInto("throttles")
    .columns(["key", "failures", "locked_until", "hard_locked", "updated_at", "window_started_at"])
    .expression(
      db
        .selectNoFrom([
          sql<string>`CAST(${key} AS TEXT)`.as("key"),
          big(1).as("failures"),
          first.as("locked_until"),
          big(policy.hardAfter !== null && policy.hardAfter <= 1 ? 1 : 0).as("hard_locked"),
          at.as("updated_at"),
          (policy.windowMs === null ? big(0) : at).as("window_started_at"),
        ])
        .where(unrefused),
    )
    .onConflict((oc) =>
      oc
        .column("key")
        .doUpdateSet({
          failures,
          locked_until: lockUntil(failures, plus, policy),
          hard_locked: hard,
          window_started_at: policy.windowMs === null ? big(0) : sql<number>`(CASE WHEN ${expired} THEN ${at} ELSE throttles.window_started_at END)`,
          updated_at: now,
        })
        .where(sql<boolean>`throttles.locked_until <= ${at} AND throttles.hard_locked = 0`),
    )
    .returning(["failures", "locked_until", "hard_locked", "window_started_at", told.as("told_lock")]);
});

/** A bound number typed as a 64-bit integer, so PostgreSQL types every branch of a CASE alike. */
function big(value: number): RawBuilder<number> {
  return sql<number>`CAST(${value} AS BIGINT)`;
}

/** `CASE` over the failure count: the lock end each count earns, up to the cap. */
function lockUntil(failures: RawBuilder<number>, plus: (ms: number) => RawBuilder<number>, policy: CounterPolicy): RawBuilder<number> {
  const steps: RawBuilder<unknown>[] = [];
  for (let n = policy.after; lockDuration(n, policy) < policy.maxMs; n += 1) {
    steps.push(sql`WHEN ${failures} = ${big(n)} THEN ${plus(lockDuration(n, policy))}`);
  }
  return sql<number>`(CASE WHEN ${failures} < ${big(policy.after)} THEN ${big(0)} ${sql.join(steps, sql` `)} ELSE ${plus(policy.maxMs)} END)`;
}

/**
 * Gives a reserved count back (the attempt was right but is not a success of its own, or another
 * counter refused it): one failure less, and the lock it started lifted. A window that has moved on
 * since is left alone.
 */
export async function giveBack(db: Kysely<Database>, counted: Counted): Promise<void> {
  await giveBackStatement({ lock: counted.startedLock, hard: counted.startedHardLock }, db, counted.key, counted.windowStartedAt);
}

const giveBackStatement = preparedQueryFor((started: { lock: boolean; hard: boolean }, db, key: string, windowStartedAt: number) =>
  db
    .updateTable("throttles")
    .set({
      failures: sql`CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END`,
      ...(started.lock ? { locked_until: 0 } : {}),
      ...(started.hard ? { hard_locked: 0 } : {}),
    })
    .where("key", "=", key)
    .where("window_started_at", "=", windowStartedAt),
);

/** A success ends the counter's run of failures; a lock until support unlocks stays, unless this attempt set it. */
export async function clear(db: Kysely<Database>, counted: Counted): Promise<void> {
  await clearStatement(counted.startedHardLock, db, counted.key);
}

const clearStatement = preparedQueryFor((startedHardLock: boolean, db, key: string) => {
  const q = db.deleteFrom("throttles").where("key", "=", key);
  return startedHardLock ? q : q.where("hard_locked", "=", 0);
});

/**
 * The counters that have ever locked (a lock in force, run out, or until support unlocks it): the one
 * home of that condition, asked by the Rollout page's locked figure (rollout/progress.ts). Migration
 * 024's partial index `throttles_ever_locked` was made with this very text, and keeps its own frozen
 * copy: SQLite takes a partial index only for terms written as its WHERE is, so change it here only with
 * a new migration for the index (test/regulation/ever-locked.unit.test.ts holds the two alike). No
 * parameters (sql, never sql.raw: security/input's ASVS 5.3.4 check).
 */
export const EVER_LOCKED = sql<boolean>`hard_locked = 1 or locked_until > 0`;

export interface CounterState {
  key: string;
  failures: number;
  lockedUntil: number;
  hardLocked: boolean;
}

/** The counters with these keys as they stand (missing ones are not returned). */
export async function readCounters(db: Kysely<Database>, keys: string[]): Promise<CounterState[]> {
  if (keys.length === 0) return [];
  const rows = await countersStatement(keys.length, db, ...keys);
  return rows.map((r) => ({ key: r.key, failures: Number(r.failures), lockedUntil: Number(r.locked_until), hardLocked: Number(r.hard_locked) === 1 }));
}

// Issue 17: once per password or code step; one prepared query per number of keys.
const countersStatement = preparedQueryFor((count: number, db, ...keys: string[]) =>
  db.selectFrom("throttles").select(["key", "failures", "locked_until", "hard_locked"]).where("key", "in", keys.slice(0, count)),
);
