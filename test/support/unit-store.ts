import type { Kysely } from "kysely";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { deriveKeys, type Keys } from "../../src/platform/keys.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { cryptoRandom, type Random } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import type { Database } from "../../src/store/schema.ts";
import { migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { copySqliteTemplate } from "./sqlite-template.ts";

/**
 * The lightest unit tier: a migrated in-memory SQLite, a fixed clock, derived keys and a random source,
 * without the rest of the application (no services, no web layer). For rules that need storage only
 * (the counters, device cookies): a test file over it imports in a fraction of createUnitDeps' time,
 * which is what a mutation run pays again for every mutant.
 */
export interface UnitStore {
  db: Kysely<Database>;
  clock: FixedClock;
  keys: Keys;
  random: Random;
  close(): Promise<void>;
}

export async function createUnitStore(clock = new FixedClock()): Promise<UnitStore> {
  const store = openStore("sqlite::memory:");
  await copySqliteTemplate(store.db); // migrated once per process, not once per store

  return { db: store.db, clock, keys: deriveKeys(Buffer.from("b".repeat(64), "hex")), random: cryptoRandom, close: () => store.close() };
}

/**
 * The unit tier's one setup for a test file over the store alone: a fresh in-memory store for the
 * file (made before its first test, closed after its last), its counters and devices read back, and
 * fresh names so the tests of one file never share a counter. Call it at the top of a `describe`.
 */
export function useUnitStore(clock?: FixedClock) {
  let unit: UnitStore | undefined;
  let n = 0;
  beforeAll(async () => {
    unit = await createUnitStore(clock);
  });
  afterAll(async () => unit?.close());
  const store = (): UnitStore => {
    if (!unit) throw new Error("useUnitStore: the store exists inside tests only");
    return unit;
  };
  return {
    get db() {
      return store().db;
    },
    get clock() {
      return store().clock;
    },
    get keys() {
      return store().keys;
    },
    get random() {
      return store().random;
    },
    now: () => store().clock.now(),
    /** A name no other test of the file uses: `${prefix}-1`, `${prefix}-2`, … */
    fresh: (prefix = "test") => `${prefix}-${++n}`,
    /** The counter row as stored (every column), or undefined. */
    throttle: (key: string) => store().db.selectFrom("throttles").selectAll().where("key", "=", key).executeTakeFirst(),
    /** Writes a counter row as it would stand (for reading and unlocking it). */
    putThrottle: (key: string, row: { failures: number; lockedUntil?: number; hardLocked?: boolean; windowStartedAt?: number }) =>
      store()
        .db.insertInto("throttles")
        .values({ key, failures: row.failures, locked_until: row.lockedUntil ?? 0, hard_locked: row.hardLocked ? 1 : 0, updated_at: store().clock.now(), window_started_at: row.windowStartedAt ?? 0 })
        .execute(),
  };
}

/**
 * A migrated database of its own for each test (made before it, dropped after it; a SQLite file unless
 * `dialect` says otherwise) and a fixed clock: for the outbox's statements, prepared once per store,
 * whose shape a store shared between tests would hide. Call it at the top level of a file or a `describe`.
 */
export function useStorePerTest(prefix: string, dialect: TestDialect = "sqlite") {
  let current: { store: Store; database: TestDatabase; clock: FixedClock } | undefined;
  beforeEach(async () => {
    const database = await migratedTestDatabase(dialect, prefix);
    const store = openStore(database.url);
    await migrateToLatest(store);
    current = { store, database, clock: new FixedClock() };
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    await done?.store.close();
    await done?.database.drop();
  });
  const made = () => {
    if (!current) throw new Error("useStorePerTest: the store exists inside tests only");
    return current;
  };
  return {
    get db(): Kysely<Database> {
      return made().store.db;
    },
    get clock(): FixedClock {
      return made().clock;
    },
  };
}
