import type { Kysely } from "kysely";
import { deriveKeys, type Keys } from "../../src/platform/keys.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { cryptoRandom, type Random } from "../../src/platform/random.ts";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import type { Database } from "../../src/store/schema.ts";

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
  await migrateToLatest(store);
  return { db: store.db, clock, keys: deriveKeys(Buffer.from("b".repeat(64), "hex")), random: cryptoRandom, close: () => store.close() };
}
