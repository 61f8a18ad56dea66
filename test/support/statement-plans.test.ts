import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { migratedTestDatabase, type TestDatabase } from "../store/dialects.ts";
import { fullReads, planText, readsPerRow } from "./statement-plans.ts";

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

  it("count a scan of an aliased table: SQLite's plan names it by its alias (SCAN u)", async () => {
    const aliased = store.db.selectFrom("users as u").select("u.id").where("u.otp_email", "is", null).compile().query;
    expect(await fullReads(store, aliased, ["users"])).toEqual(["SCAN u"]);
    expect(await readsPerRow(store, aliased, ["users"])).toEqual(["SCAN u"]);
    // Another table's alias is not this one's, and a search through an index is no whole read.
    expect(await fullReads(store, aliased, ["sessions"])).toEqual([]);
    const byId = store.db.selectFrom("users as u").select("u.id").where("u.id", "=", "x").compile().query;
    expect(await fullReads(store, byId, ["users"])).toEqual([]);
  });
});

/**
 * On PostgreSQL a partial index serves a statement whose WHERE is the index's own predicate with no
 * index condition at all: a Bitmap Index Scan over the whole partial index under a Bitmap Heap Scan. The
 * helper counted a plain Index Scan without a condition, not this one.
 */
describe("fullReads and readsPerRow on PostgreSQL", () => {
  let database: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    database = await migratedTestDatabase("postgres", "statement_plans");
    store = openStore(database.url);
    await migrateToLatest(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("count a bitmap scan that reads a whole partial index without an index condition", async () => {
    // notices_live (notices.created_at where ended_at is null): every live notice, read whole.
    const live = sql`select id from notices where ended_at is null`.toOperationNode();
    expect(await fullReads(store, live, ["notices"])).toEqual(["Bitmap Heap Scan on notices"]);
    expect(await fullReads(store, live, ["outbox"])).toEqual([]);
    // A bitmap scan with an index condition reads only what the condition finds.
    const since = sql`select id from notices where ended_at is null and created_at > ${0}`.toOperationNode();
    expect(await planText(store, since)).toContain("Index Cond");
    expect(await fullReads(store, since, ["notices"])).toEqual([]);
  });

  it("count an aliased table by its name, as before", async () => {
    const aliased = store.db.selectFrom("users as u").select("u.id").where("u.otp_email", "is", null).compile().query;
    expect(await fullReads(store, aliased, ["users"])).toEqual(["Seq Scan on users"]);
  });
});
