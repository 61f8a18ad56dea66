import { CompiledQuery, sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCounters } from "../../src/regulation/counter.ts";
import { recordFailure } from "../../src/regulation/throttle.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { LATEST_MIGRATION, migrateTo } from "../../src/store/migrate.ts";
import type { Database, OutboxTable } from "../../src/store/schema.ts";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "./dialects.ts";

const BEFORE = "009-sign-in-indexes";
// The counters here are keyed by login ID as typed, as before 019-login-digests, which rewrites them
// (test/security/typed-password-at-rest.test.ts): 010 is followed up to the migration before it.
const AFTER = "017-throttles-by-key";

const throttleRows = [
  { key: "password:id:alice", failures: 3, locked_until: 0, hard_locked: 0, updated_at: 1_000, window_started_at: 0 },
  { key: "code:id:bob", failures: 12, locked_until: 9_000_000, hard_locked: 1, updated_at: 2_000, window_started_at: 0 },
  { key: "ip:192.0.2.7", failures: 40, locked_until: 5_000, hard_locked: 0, updated_at: 3_000, window_started_at: 500 },
];

// Written before migration 020 (outbox.last_fault), and read back before it.
function outboxRow(id: string, sentAt: number | null): Omit<OutboxTable, "last_fault"> {
  return {
    id, user_id: null, kind: "test", recipient: `${id}@dealer.example`, subject: "s", text_body: "t", html_body: "h",
    message_id: `<${id}@famos.test>`, state: sentAt === null ? "queued" : "sent", attempts: sentAt === null ? 0 : 1,
    next_attempt_at: 100, lease_until: null, last_error: null, created_at: 100, sent_at: sentAt, bounced_at: null, bounce_kind: null, bounce_reason: null,
  };
}
const outboxRows = [outboxRow("m-queued", null), outboxRow("m-sent", 200)];

const throttlesNow = (db: Kysely<Database>) => db.selectFrom("throttles").selectAll().orderBy("key").execute();
const outboxNow = (db: Kysely<Database>) => db.selectFrom("outbox").selectAll().orderBy("id").execute();
const byKey = <T extends { key: string }>(rows: T[]) => [...rows].sort((a, b) => a.key.localeCompare(b.key));

/** Issue 17, migration 010: throttles WITHOUT ROWID on SQLite, outbox_sent for sent mail only, no codes_expires; rows kept both ways. */
describe.each(DIALECTS)("migration 010-fewer-pages on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await testDatabase(dialect, `pages_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, BEFORE);
    await store.db.insertInto("throttles").values(throttleRows).execute();
    await store.db.insertInto("outbox").values(outboxRows).execute();
    await migrateTo(store, AFTER);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("is applied, and keeps every counter and message as it was", async () => {
    // 010 or a later one: the rows must also survive every migration after it.
    expect(LATEST_MIGRATION >= AFTER).toBe(true);
    expect(await throttlesNow(store.db)).toEqual(byKey(throttleRows));
    expect(await outboxNow(store.db)).toEqual(outboxRows);
  });

  it("counts, refuses and locks on the rebuilt table as before", async () => {
    const settings = { lock: { after: 5, baseMs: 60_000, maxMs: 3_600_000, codeHardLock: 10 }, address: { lockAfter: 1000, windowMs: 900_000, trustedNetworks: [] }, deviceLockAfter: 10 };
    const subject = { loginKey: "alice", ip: "198.51.100.1" };
    // alice had 3 failures: the 4th and 5th count, the 5th locks, the 6th is refused uncounted.
    const results = [];
    for (let i = 0; i < 3; i += 1) results.push(await recordFailure(store.db, "password", subject, 10_000, settings));
    expect(results.map((r) => r?.failures ?? null)).toEqual([4, 5, null]);
    const [alice] = await readCounters(store.db, ["password:id:alice"]);
    expect(alice).toMatchObject({ failures: 5, lockedUntil: 70_000, hardLocked: false });
    await expect(store.db.insertInto("throttles").values({ ...throttleRows[0]! }).execute()).rejects.toThrow(/unique|duplicate|constraint/i);
  });

  it("migrates down with the rows intact, and up again", async () => {
    const before = await throttlesNow(store.db);
    await migrateTo(store, BEFORE);
    expect(await throttlesNow(store.db)).toEqual(before);
    expect(await outboxNow(store.db)).toEqual(outboxRows);
    if (dialect === "sqlite") expect(await tableSql(store.db, "throttles")).not.toMatch(/without rowid/i);
    await migrateTo(store, AFTER);
    expect(await throttlesNow(store.db)).toEqual(before);
  });

  // Each dialect's own check, so that neither run reports a test it skipped.
  it(dialect === "sqlite" ? "keeps the counters in the key's b-tree, and every query on an index" : "holds sent mail only in outbox_sent", async () => {
    if (dialect === "sqlite") await sqlitePlans(store);
    else await postgresOutboxSent(store);
  });

  it(dialect === "sqlite" ? "reads codes by flow, user and id, none by expiry (codes_expires is gone)" : "keeps the codes' indexes by flow and user, none by expiry (codes_expires is gone)", async () => {
    if (dialect === "sqlite") await sqliteCodePlans(store);
    else await postgresCodeIndexes(store);
  });
});

async function sqlitePlans(store: Store): Promise<void> {
  expect(await tableSql(store.db, "throttles")).toMatch(/without rowid$/i);
  const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'throttles' order by name`.execute(store.db);
  // The key's b-tree is the table: no index of its own beside it, and none on updated_at since 017.
  expect(indexes.rows.map((r) => r.name)).toEqual([]);
  const db = store.db;
  // The statements of regulation/counter.ts, regulation/locks.ts and retention/cleanup.ts, in their shapes.
  expect(await plan(db, db.selectFrom("throttles").select(["key", "failures"]).where("key", "in", ["a", "b", "c"]))).toMatch(/SEARCH throttles USING PRIMARY KEY \(key=\?\)/);
  expect(await plan(db, db.deleteFrom("throttles").where("key", "=", "a").where("hard_locked", "=", 0))).toMatch(/SEARCH throttles USING PRIMARY KEY \(key=\?\)/);
  expect(await plan(db, db.updateTable("throttles").set({ failures: 0 }).where("key", "=", "a").where("window_started_at", "=", 0))).toMatch(/SEARCH throttles USING PRIMARY KEY \(key=\?\)/);
  // Retention walks the counters in key order (017): a batch after the last key, then the idle ones by key.
  const next = db.selectFrom("throttles").select(["key", "updated_at", "locked_until", "hard_locked"]).where("key", ">", "a").orderBy("key").limit(100);
  expect(await plan(db, next)).toMatch(/^SEARCH throttles USING PRIMARY KEY \(key>\?\)$/);
  expect(await plan(db, db.deleteFrom("throttles").where("key", "in", ["a", "b"]).where("updated_at", "<", 1).where("hard_locked", "=", 0).where("locked_until", "<", 1))).toMatch(/^SEARCH throttles USING PRIMARY KEY \(key=\?\)$/);
  const sent = db.selectFrom("outbox").select("id").where("sent_at", "<", 1).where("state", "=", "sent").orderBy("sent_at").limit(100);
  expect(await plan(db, db.deleteFrom("outbox").where("id", "in", sent))).toMatch(/SEARCH outbox USING INDEX outbox_sent \(state=\? AND sent_at<\?\)$/);
}

async function sqliteCodePlans(store: Store): Promise<void> {
  const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'codes' order by name`.execute(store.db);
  expect(indexes.rows.map((r) => r.name)).toEqual(["codes_flow", "codes_user", "sqlite_autoindex_codes_1"]);
  const db = store.db;
  // The statements of otp/codes.ts and retention/cleanup.ts, in their shapes.
  const live = db.selectFrom("codes").selectAll().where("flow_id", "=", "f").where("consumed_at", "is", null).where("voided_at", "is", null);
  expect(await plan(db, live)).toMatch(/^SEARCH codes USING INDEX codes_flow \(flow_id=\?\)$/);
  const lastHour = db.selectFrom("codes").select((eb) => eb.fn.countAll<number>().as("n")).where("user_id", "=", "u").where("created_at", ">", 1);
  expect(await plan(db, lastHour)).toMatch(/^SEARCH codes USING (COVERING )?INDEX codes_user \(user_id=\? AND created_at>\?\)$/);
  expect(await plan(db, db.updateTable("codes").set({ consumed_at: 1 }).where("id", "=", "c").where("consumed_at", "is", null))).toMatch(/^SEARCH codes USING INDEX sqlite_autoindex_codes_1 \(id=\?\)$/);
  expect(await plan(db, db.updateTable("codes").set({ voided_at: 1 }).where("user_id", "=", "u").where("consumed_at", "is", null))).toMatch(/^SEARCH codes USING INDEX codes_user \(user_id=\?\)$/);
  expect(await plan(db, db.deleteFrom("codes").where("flow_id", "in", ["f", "g"]))).toMatch(/^SEARCH codes USING (COVERING )?INDEX codes_flow \(flow_id=\?\)$/);
}

async function postgresOutboxSent(store: Store): Promise<void> {
  const index = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'outbox_sent' and schemaname = current_schema()`.execute(store.db);
  expect(index.rows.map((r) => r.indexdef)).toEqual([expect.stringMatching(/\(state, sent_at\) WHERE \(sent_at IS NOT NULL\)$/)]);
}

async function postgresCodeIndexes(store: Store): Promise<void> {
  const codes = await sql<{ indexname: string }>`select indexname from pg_indexes where tablename = 'codes' and schemaname = current_schema() order by indexname`.execute(store.db);
  expect(codes.rows.map((r) => r.indexname)).toEqual(["codes_flow", "codes_pkey", "codes_user"]);
}

async function tableSql(db: Kysely<Database>, table: string): Promise<string> {
  const row = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  return row.rows[0]!.sql;
}

/** SQLite's plan for a query as Kysely compiles it, its steps joined by " | ". */
async function plan(db: Kysely<Database>, query: { compile(): CompiledQuery }): Promise<string> {
  const compiled = query.compile();
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  return result.rows.map((r) => r.detail).join(" | ");
}
