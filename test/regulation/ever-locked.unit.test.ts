import { Kysely, SqliteDialect, PostgresDialect } from "kysely";
import { describe, expect, it } from "vitest";
import { EVER_LOCKED } from "../../src/regulation/counter.ts";
import { EVER_LOCKED as MIGRATION_024 } from "../../src/store/migrations/024-counters-ever-locked.ts";

/**
 * The condition's home (regulation/counter.ts) and migration 024's frozen copy, which made the partial
 * index the Rollout page's locked figure reads by: written alike, or SQLite no longer takes the index.
 */
describe("the counters that have ever locked", () => {
  it("is written exactly as migration 024's partial index, with no parameters, on both dialects", () => {
    const dialects = [
      new SqliteDialect({ database: async () => { throw new Error("not connected"); } }),
      new PostgresDialect({ pool: async () => { throw new Error("not connected"); } }),
    ];
    for (const dialect of dialects) {
      const db = new Kysely<unknown>({ dialect });
      const ours = EVER_LOCKED.compile(db);
      const frozen = MIGRATION_024.compile(db);
      expect(ours.sql).toBe(frozen.sql);
      expect(ours.parameters).toEqual([]);
      expect(frozen.parameters).toEqual([]);
    }
  });
});
