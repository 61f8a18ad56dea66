import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { activeAddressLocks } from "../../src/regulation/locks.ts";
import { counterKey } from "../../src/regulation/counter-key.ts";
import { lockedUsersByPartner } from "../../src/rollout/progress.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo, migrateToLatest } from "../../src/store/migrate.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { userRow } from "../../src/users/users.ts";
import { TEST_KEYS } from "../support/login-counter.ts";
import { testDatabase, type TestDatabase } from "./dialects.ts";

/**
 * Review of migration 022 (throttles.key and users.login_digest in the "C" collation on PostgreSQL):
 * on a database with data, up and down, every query of the current and of the older version (LIKE
 * 'prefix%', the join of counters to accounts) answers alike on both sides of it.
 */
describe("migration 022-counter-keys-in-byte-order on postgres, with data, up and down", () => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await database?.drop();
  });

  const NOW = 1_000_000;
  const collations = async () =>
    (await sql<{ c: string; n: string | null }>`select table_name || '.' || column_name as c, collation_name as n from information_schema.columns where table_schema = current_schema() and ((table_name = 'throttles' and column_name = 'key') or (table_name = 'users' and column_name = 'login_digest')) order by 1`.execute(store!.db)).rows;
  // The older version's reading (before 1975673): LIKE on the prefix, the same join.
  const olderLocked = async () =>
    (await sql<{ partner: string; n: string }>`select users.partner_number as partner, count(*) as n from (select substr(key, 13) as digest from throttles where key like 'password:id:%' and (hard_locked = 1 or locked_until > ${NOW})) as locks join users on users.login_digest = locks.digest group by 1`.execute(store!.db)).rows.map((r) => [r.partner, Number(r.n)]);

  it("keeps every key and digest, answers the locked figure, the address locks and the older version's LIKE alike, and goes down", async () => {
    database = await testDatabase("postgres", "counter_keys_c");
    store = openStore(database.url);
    await migrateTo(store, "021-user-login-digests", TEST_KEYS);
    // Rows as migration 021's FAMOS wrote them: no strong_factor_at (026).
    const users = ["Anna", "ben", "Zoe", "émile"].map((loginId, i) => {
      const { strong_factor_at: _strong, ...row } = userRow(TEST_KEYS, { bytes: (n: number) => Buffer.alloc(n, i + 1) } as never, 1, { loginId, fullName: loginId, partnerNumber: String(10 + (i % 2)), role: "user", passwordHash: "x", otpEmail: null });
      return row;
    });
    await store.db.insertInto("users").values(users).execute();
    const counter = (key: string, locked: number) => ({ key, failures: 5, locked_until: locked, hard_locked: 0, updated_at: 1, window_started_at: 0 });
    const keys = [
      ...users.map((u, i) => counter(counterKey.loginId("password", u.login_digest!), i < 3 ? NOW + 60_000 : 0)),
      counter(counterKey.loginId("code", loginDigest(TEST_KEYS, "nobody")), NOW + 60_000),
      counter("password:dev:Ab", NOW + 60_000),
      counter("ip:192.0.2.1", NOW + 60_000),
      counter("ip:2001:db8::1", NOW + 60_000),
      counter("IP:not-an-address", NOW + 60_000),
    ];
    await store.db.insertInto("throttles").values(keys).execute();
    const before = await olderLocked();
    const deps = { db: store.db, keys: TEST_KEYS } as never;

    await migrateToLatest(store, TEST_KEYS);
    expect(await collations()).toEqual([{ c: "throttles.key", n: "C" }, { c: "users.login_digest", n: "C" }]);
    expect((await store.db.selectFrom("throttles").select("key").orderBy("key").execute()).map((r) => r.key)).toEqual(keys.map((k) => k.key).sort());
    expect(Object.fromEntries(await lockedUsersByPartner(deps, NOW))).toEqual({ "10": 2, "11": 1 });
    expect(await olderLocked()).toEqual(before);
    expect((await activeAddressLocks(store.db, NOW)).map((l) => l.address).sort()).toEqual(["192.0.2.1", "2001:db8::1"]);
    // A join to a text column of the default collation (audit.subject) still runs.
    await sql`select count(*) from throttles join audit on audit.subject = throttles.key`.execute(store.db);
    await sql`select count(*) from users u join users v on u.login_digest = v.login_key`.execute(store.db);

    await migrateTo(store, "021-user-login-digests", TEST_KEYS);
    expect((await collations()).map((r) => r.n)).toEqual([null, null]);
    expect(await store.db.selectFrom("throttles").select("key").execute()).toHaveLength(keys.length);
    expect(Object.fromEntries(await lockedUsersByPartner(deps, NOW))).toEqual({ "10": 2, "11": 1 });
    expect(await olderLocked()).toEqual(before);
  });
});
