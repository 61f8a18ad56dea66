import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo, migrateToLatest } from "../../src/store/migrate.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { TEST_KEYS } from "../support/login-counter.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "./dialects.ts";

/**
 * Migration 021 gives each account its login ID's keyed digest (users.login_digest), under the keys
 * migration 019 digests counters with: from the server's FAMOS_SECRET, refused without it when there
 * are accounts, not needed on a new database.
 */
describe.each(DIALECTS)("migration 021-user-login-digests on %s", (dialect) => {
  const opened: { store: Store; database: TestDatabase }[] = [];
  let store: Store | undefined;
  afterEach(async () => {
    for (const { store: s, database: d } of opened.splice(0)) await s.close().then(() => d.drop());
  });

  async function open(prefix: string) {
    const database = await testDatabase(dialect, `${prefix}_${dialect}`);
    store = openStore(database.url);
    opened.push({ store, database });
    return store;
  }

  async function olderDatabase(users: number) {
    await migrateTo(await open("user_digests"), "019-login-digests");
    const rows = Array.from({ length: users }, (_, i) => ({
      id: `u-${i}`, login_id: `Staff.${i}`, login_key: `staff.${i}`, full_name: "S", partner_number: "7", role: "user", password_hash: "x",
      otp_email: null, otp_email_confirmed_at: null, pending_email: null, last_sign_in_at: null, created_at: 1, updated_at: 1, disabled_at: null, password_temporary_until: null,
    }));
    for (let i = 0; i < rows.length; i += 500) await store!.db.insertInto("users").values(rows.slice(i, i + 500) as never).execute();
    return store!.db;
  }

  it("fills every account's digest (more than one batch)", async () => {
    const db = await olderDatabase(1_234);
    await migrateToLatest(store!, TEST_KEYS);
    const users = await db.selectFrom("users").select(["login_key", "login_digest"]).execute();
    expect(users).toHaveLength(1_234);
    expect(users.filter((u) => u.login_digest !== loginDigest(TEST_KEYS, u.login_key))).toEqual([]);
  });

  it("refuses without the server's keys when there are accounts; a new database needs none", async () => {
    await olderDatabase(1);
    await expect(migrateToLatest(store!)).rejects.toThrow(/021-user-login-digests.*FAMOS_SECRET/);
    const fresh = await open("user_digests_new");
    await migrateToLatest(fresh);
    expect(await fresh.db.selectFrom("users").select("login_digest").execute()).toEqual([]);
  });
});
