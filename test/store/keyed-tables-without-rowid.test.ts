import { CompiledQuery, sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { LATEST_MIGRATION, migrateTo } from "../../src/store/migrate.ts";
import type { Database } from "../../src/store/schema.ts";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "./dialects.ts";

const BEFORE = "027-session-step-up";
const AFTER = "028-keyed-tables-without-rowid";

const user = {
  id: "u-1", login_id: "Alice", login_key: "alice", full_name: "Alice A", partner_number: "0042", role: "user" as const, password_hash: "$argon2id$x",
  otp_email: "alice@dealer.example", otp_email_confirmed_at: 1_000, pending_email: null, last_sign_in_at: null, created_at: 1, updated_at: 1,
  disabled_at: null, password_temporary_until: null, locale: null, time_zone: null, login_digest: null, strong_factor_at: null,
};
const flows = [
  { id: "f-1", user_id: "u-1", kind: "signin" as const, email: "alice@dealer.example", created_at: 1_000, codes_sent: 2, last_code_at: 1_500, finished_at: null, return_to: "/quotation" },
  { id: "f-2", user_id: "u-1", kind: "email-change" as const, email: "a2@dealer.example", created_at: 2_000, codes_sent: 1, last_code_at: 2_000, finished_at: 2_100, return_to: null },
];
const codes = [
  { id: "c-1", flow_id: "f-1", user_id: "u-1", code_hash: "h1", email: "alice@dealer.example", outbox_id: "m-1", created_at: 1_000, expires_at: 901_000, tries: 0, consumed_at: null, voided_at: 1_500, void_reason: "regenerated" },
  { id: "c-2", flow_id: "f-1", user_id: "u-1", code_hash: "h2", email: "alice@dealer.example", outbox_id: null, created_at: 1_500, expires_at: 901_500, tries: 3, consumed_at: null, voided_at: null, void_reason: null },
  { id: "c-3", flow_id: "f-2", user_id: "u-1", code_hash: "h3", email: "a2@dealer.example", outbox_id: "m-3", created_at: 2_000, expires_at: 902_000, tries: 1, consumed_at: 2_100, voided_at: null, void_reason: null },
];
const devices = [
  { id: "d-1", login_key: "alice", created_at: 1_000, last_used_at: 3_000, revoked_at: null },
  { id: "d-2", login_key: "bob", created_at: 1_100, last_used_at: 1_100, revoked_at: 2_000 },
];

const rowsNow = async (db: Kysely<Database>) => ({
  flows: await db.selectFrom("flows").selectAll().orderBy("id").execute(),
  codes: await db.selectFrom("codes").selectAll().orderBy("id").execute(),
  devices: await db.selectFrom("devices").selectAll().orderBy("id").execute(),
});

/** Issue 17 round 34, migration 028: flows, codes and devices WITHOUT ROWID on SQLite; every row kept both ways, on both dialects. */
describe.each(DIALECTS)("migration 028-keyed-tables-without-rowid on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await testDatabase(dialect, `rowid_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, BEFORE);
    await store.db.insertInto("users").values(user).execute();
    await store.db.insertInto("flows").values(flows).execute();
    await store.db.insertInto("codes").values(codes).execute();
    await store.db.insertInto("devices").values(devices).execute();
    await migrateTo(store, AFTER);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("is applied, and keeps every flow, code and device as it was", async () => {
    expect(LATEST_MIGRATION >= AFTER).toBe(true);
    expect(await rowsNow(store.db)).toEqual({ flows, codes, devices });
  });

  it("keeps the keys unique and the codes tied to their flow and user (a flow's deletion takes its codes)", async () => {
    await expect(store.db.insertInto("codes").values({ ...codes[0]! }).execute()).rejects.toThrow(/unique|duplicate|constraint/i);
    await expect(store.db.insertInto("devices").values({ ...devices[0]! }).execute()).rejects.toThrow(/unique|duplicate|constraint/i);
    await expect(store.db.insertInto("codes").values({ ...codes[0]!, id: "c-9", flow_id: "no-such-flow" }).execute()).rejects.toThrow(/foreign key/i);
    await store.db.deleteFrom("flows").where("id", "=", "f-2").execute();
    expect((await store.db.selectFrom("codes").select("id").orderBy("id").execute()).map((r) => r.id)).toEqual(["c-1", "c-2"]);
    await store.db.insertInto("flows").values(flows[1]!).execute();
    await store.db.insertInto("codes").values(codes[2]!).execute();
  });

  it("migrates down with the rows intact, and up again", async () => {
    await migrateTo(store, BEFORE);
    expect(await rowsNow(store.db)).toEqual({ flows, codes, devices });
    if (dialect === "sqlite") for (const table of ["flows", "codes", "devices"]) expect(await tableSql(store.db, table)).not.toMatch(/without rowid/i);
    await migrateTo(store, AFTER);
    expect(await rowsNow(store.db)).toEqual({ flows, codes, devices });
  });

  // Each dialect's own check, so that neither run reports a test it skipped.
  it(dialect === "sqlite" ? "keeps each row in its key's b-tree, and every sign-in statement on an index" : "keeps the tables' keys and indexes", async () => {
    if (dialect === "sqlite") await sqliteStorage(store);
    else await postgresIndexes(store);
  });
});

async function sqliteStorage(store: Store): Promise<void> {
  const db = store.db;
  for (const table of ["flows", "codes", "devices"]) expect(await tableSql(db, table)).toMatch(/without rowid$/i);
  const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name in ('flows', 'codes', 'devices') order by name`.execute(db);
  // No automatic index of the key beside the table: the key's b-tree is the table.
  expect(indexes.rows.map((r) => r.name)).toEqual(["codes_flow", "codes_user", "devices_last_used", "devices_login", "flows_created", "flows_user"]);
  // The sign-in's statements on these tables (otp/codes.ts, signin, session/devices.ts, retention), in their shapes.
  expect(await plan(db, db.selectFrom("flows").selectAll().where("id", "=", "f"))).toMatch(/^SEARCH flows USING PRIMARY KEY \(id=\?\)$/);
  expect(await plan(db, db.updateTable("codes").set({ consumed_at: 1 }).where("id", "=", "c").where("consumed_at", "is", null))).toMatch(/^SEARCH codes USING PRIMARY KEY \(id=\?\)$/);
  expect(await plan(db, db.selectFrom("codes").selectAll().where("flow_id", "=", "f").where("consumed_at", "is", null).where("voided_at", "is", null))).toMatch(/^SEARCH codes USING INDEX codes_flow \(flow_id=\?\)$/);
  const lastHour = db.selectFrom("codes").select((eb) => eb.fn.countAll<number>().as("n")).where("user_id", "=", "u").where("created_at", ">", 1);
  expect(await plan(db, lastHour)).toMatch(/^SEARCH codes USING (COVERING )?INDEX codes_user \(user_id=\? AND created_at>\?\)$/);
  expect(await plan(db, db.selectFrom("devices").selectAll().where("id", "=", "d"))).toMatch(/^SEARCH devices USING PRIMARY KEY \(id=\?\)$/);
  expect(await plan(db, db.selectFrom("devices").select("id").where("login_key", "=", "k").where("revoked_at", "is", null))).toMatch(/^SEARCH devices USING (COVERING )?INDEX devices_login \(login_key=\? AND revoked_at=\?\)$/);
  expect(await plan(db, db.selectFrom("flows").select("id").where("created_at", "<", 1).limit(100))).toMatch(/^SEARCH flows USING (COVERING )?INDEX flows_created \(created_at<\?\)$/);
}

async function postgresIndexes(store: Store): Promise<void> {
  const rows = await sql<{ indexname: string }>`select indexname from pg_indexes where tablename in ('flows', 'codes', 'devices') and schemaname = current_schema() order by indexname`.execute(store.db);
  expect(rows.rows.map((r) => r.indexname)).toEqual(["codes_flow", "codes_pkey", "codes_user", "devices_last_used", "devices_login", "devices_pkey", "flows_created", "flows_pkey", "flows_user"]);
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
