import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo } from "../../src/store/migrate.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "./dialects.ts";

const T0 = 1_700_000_000_000;

const user = (loginId: string) => ({
  id: `u-${loginId}`, login_id: loginId, login_key: loginId, login_digest: null, full_name: loginId, partner_number: "P1",
  role: "user", password_hash: "x", otp_email: null, otp_email_confirmed_at: null, pending_email: null, last_sign_in_at: null,
  created_at: T0, updated_at: T0, disabled_at: null, password_temporary_until: null,
});

/** A database at 028 with two accounts, then migrated to 029; `before` runs between the two. */
async function migratedWithTwo(dialect: (typeof DIALECTS)[number], prefix: string, before?: (store: Store) => Promise<void>) {
  const database = await testDatabase(dialect, prefix);
  const store = openStore(database.url);
  await migrateTo(store, "028-sync-disabled-partner");
  await store.db.insertInto("users").values([user("before.one"), user("before.two")] as never).execute();
  await before?.(store);
  await migrateTo(store, "029-imported-hash-digest");
  return { database, store };
}

/**
 * Migration 029: users.imported_hash_digest. Accounts there before it are "unrecorded" (what an import
 * last gave them is not known: support/imported-password.ts decides for them), so none is taken for a
 * never-imported account; rows written after it start with none. SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("migration 029 on %s: accounts there before it", (dialect) => {
  let database: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    ({ database, store } = await migratedWithTwo(dialect, `importdigest_${dialect}`));
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("marks every account there before it unrecorded, and a new one has no digest", async () => {
    await store.db.insertInto("users").values(user("after") as never).execute();
    const rows = await store.db.selectFrom("users").select(["login_key", "imported_hash_digest"]).orderBy("login_key").execute();
    expect(rows).toEqual([
      { login_key: "after", imported_hash_digest: null },
      { login_key: "before.one", imported_hash_digest: "unrecorded" },
      { login_key: "before.two", imported_hash_digest: "unrecorded" },
    ]);
  });
});

/**
 * On PostgreSQL the mark is the column's default while it is added, then dropped: a catalogue change
 * (PostgreSQL 11+ keeps the value as the column's "missing" value), no row rewritten. Before, an UPDATE
 * of every row ran under ALTER TABLE's exclusive lock: with 100k users every sign-in waited for it.
 */
describe("migration 029 on postgres: no row rewritten", () => {
  let database: TestDatabase;
  let store: Store;
  let placesBefore: string[] = [];
  /** Where each row's version lies (ctid): an UPDATE writes a new version elsewhere. */
  const places = async (s: Store) => (await sql<{ place: string }>`select ctid::text as place from users order by login_key`.execute(s.db)).rows.map((r) => r.place);

  beforeAll(async () => {
    ({ database, store } = await migratedWithTwo("postgres", "importdigest_rewrite", async (s) => {
      placesBefore = await places(s);
    }));
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("leaves each account where it was, marked unrecorded, and the column with no default", async () => {
    expect(placesBefore).toHaveLength(2);
    expect(await places(store)).toEqual(placesBefore);
    expect(await store.db.selectFrom("users").select("imported_hash_digest").execute()).toEqual([{ imported_hash_digest: "unrecorded" }, { imported_hash_digest: "unrecorded" }]);
    const column = await sql<{ d: string | null }>`select column_default as d from information_schema.columns where table_schema = current_schema() and table_name = 'users' and column_name = 'imported_hash_digest'`.execute(store.db);
    expect(column.rows).toEqual([{ d: null }]);
  });
});
