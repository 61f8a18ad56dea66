import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo } from "../../src/store/migrate.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "./dialects.ts";

const T0 = 1_700_000_000_000;

/**
 * Migration 029: users.imported_hash_digest. Accounts there before it are "unrecorded" (what an import
 * last gave them is not known: support/imported-password.ts decides for them), so none is taken for a
 * never-imported account; rows written after it start with none. SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("migration 029 on %s: accounts there before it", (dialect) => {
  let database: TestDatabase;
  let store: Store;
  const user = (loginId: string) => ({
    id: `u-${loginId}`, login_id: loginId, login_key: loginId, login_digest: null, full_name: loginId, partner_number: "P1",
    role: "user", password_hash: "x", otp_email: null, otp_email_confirmed_at: null, pending_email: null, last_sign_in_at: null,
    created_at: T0, updated_at: T0, disabled_at: null, password_temporary_until: null,
  });

  beforeAll(async () => {
    database = await testDatabase(dialect, `importdigest_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, "028-sync-disabled-partner");
    await store.db.insertInto("users").values([user("before.one"), user("before.two")] as never).execute();
    await migrateTo(store, "029-imported-hash-digest");
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
