import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo } from "../../src/store/migrate.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "./dialects.ts";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/**
 * Migration 026: users.strong_factor_at is filled from the factors already set up, the earliest one's
 * time: a passkey's created_at, a confirmed app's confirmed_at; an app never confirmed counts for nothing.
 * The rows are written as the code before it left them, at migration 025; SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("migration 026 on %s: factors set up before it", (dialect) => {
  let database: TestDatabase;
  let store: Store;
  const user = (loginId: string) => ({
    id: `u-${loginId}`, login_id: loginId, login_key: loginId.toLowerCase(), login_digest: null, full_name: loginId, partner_number: "P1",
    role: "user", password_hash: "x", otp_email: null, otp_email_confirmed_at: null, pending_email: null, last_sign_in_at: null,
    created_at: T0, updated_at: T0, disabled_at: null, password_temporary_until: null,
  });
  const passkey = (loginId: string, n: number, createdAt: number) => ({
    id: `pk-${loginId}-${n}`, user_id: `u-${loginId}`, credential_id: `cred-${loginId}-${n}`, public_key: "pk", sign_count: 0, transports: null,
    device_type: "singleDevice", backed_up: 0, name: `key ${n}`, created_at: createdAt, last_used_at: null,
  });
  const app = (loginId: string, createdAt: number, confirmedAt: number | null) => ({
    user_id: `u-${loginId}`, secret: "sealed", created_at: createdAt, confirmed_at: confirmedAt, last_step: null, last_used_at: null, setup_session_id: null,
  });

  beforeAll(async () => {
    database = await testDatabase(dialect, `strongmark_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, "025-reset-confirmations");
    const logins = ["passkey.only", "two.passkeys", "app.confirmed", "app.unconfirmed", "app.then.passkey", "passkey.and.pending.app", "nothing"];
    await store.db.insertInto("users").values(logins.map(user) as never).execute();
    await store.db
      .insertInto("passkeys")
      .values([
        passkey("passkey.only", 1, T0 + HOUR),
        passkey("two.passkeys", 1, T0 + 5 * HOUR),
        passkey("two.passkeys", 2, T0 + 2 * HOUR),
        passkey("app.then.passkey", 1, T0 + 7 * HOUR),
        passkey("passkey.and.pending.app", 1, T0 + 6 * HOUR),
      ] as never)
      .execute();
    await store.db
      .insertInto("authenticator_apps")
      .values([
        app("app.confirmed", T0, T0 + 3 * HOUR),
        app("app.unconfirmed", T0, null),
        app("app.then.passkey", T0, T0 + 4 * HOUR),
        app("passkey.and.pending.app", T0, null),
      ] as never)
      .execute();
    await migrateTo(store, "026-strong-factor-mark");
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("sets strong_factor_at to the earliest passkey or confirmed app, and leaves NULL where there is neither", async () => {
    const rows = await store.db.selectFrom("users").select(["login_id", "strong_factor_at"]).orderBy("login_id").execute();
    expect(Object.fromEntries(rows.map((r) => [r.login_id, r.strong_factor_at === null ? null : Number(r.strong_factor_at)]))).toEqual({
      "app.confirmed": T0 + 3 * HOUR,
      "app.then.passkey": T0 + 4 * HOUR,
      "app.unconfirmed": null,
      nothing: null,
      "passkey.and.pending.app": T0 + 6 * HOUR,
      "passkey.only": T0 + HOUR,
      "two.passkeys": T0 + 2 * HOUR,
    });
  });
});
