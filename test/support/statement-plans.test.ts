import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { migratedTestDatabase, type TestDatabase } from "../store/dialects.ts";
import { fullReads, readsPerRow } from "./statement-plans.ts";

/**
 * The plan tests' own helper. SQLite, finding no index for a join, builds one for the statement (an
 * automatic index), reading the whole table to build it: its plan says SEARCH … USING AUTOMATIC …
 * INDEX, no SCAN step, and the helper, which looked for SCAN steps only, saw nothing, so a plan test
 * passed over a read of the whole table (locked-plans.test.ts had its own check for it).
 */
describe("fullReads and readsPerRow on SQLite", () => {
  let database: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    database = await migratedTestDatabase("sqlite", "statement_plans");
    store = openStore(database.url);
    await migrateToLatest(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("count a table read whole to build an automatic index for the statement", async () => {
    // No index on outbox.subject: SQLite builds one for the join, from every mail of the outbox.
    const join = sql`select notices.id from notices join outbox on outbox.subject = notices.title where notices.created_by = ${"x"}`.toOperationNode();
    expect(await fullReads(store, join, ["outbox"])).toEqual(["SEARCH outbox USING AUTOMATIC COVERING INDEX (subject=?)"]);
    expect(await readsPerRow(store, join, ["outbox"])).toHaveLength(1);
    // A search through a real index is no whole read.
    const byKey = sql`select notices.id from notices join outbox on outbox.id = notices.title where notices.created_by = ${"x"}`.toOperationNode();
    expect(await fullReads(store, byKey, ["outbox"])).toEqual([]);
  });
});
