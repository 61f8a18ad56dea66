import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo } from "../../src/store/migrate.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "./dialects.ts";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/**
 * Migration 025: support's OTP email reset used to clear otp_email_confirmed_at, so an account reset
 * before its 2FA wave opened on the password alone until then (alwaysTwoFactor, rollout/applies.ts, now
 * counts the column, which the reset keeps). The migration gives it back to the accounts whose audit
 * trail has a reset that cleared a confirmed address; an account never confirmed keeps NULL. The rows are
 * written as the old code left them, at migration 024; SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("migration 025 on %s: accounts reset before it", (dialect) => {
  let database: TestDatabase;
  let store: Store;
  const user = (loginId: string, otpEmail: string | null, confirmedAt: number | null) => ({
    id: `u-${loginId}`, login_id: loginId, login_key: loginId.toLowerCase(), login_digest: null, full_name: loginId, partner_number: "P1",
    role: "user", password_hash: "x", otp_email: otpEmail, otp_email_confirmed_at: confirmedAt, pending_email: null, last_sign_in_at: null,
    created_at: T0, updated_at: T0, disabled_at: null, password_temporary_until: null,
  });
  const reset = (subject: string, time: number, previousEmail: string | null) => ({
    time, event: "email.reset", actor: "desk", subject, ip: "10.0.0.1", user_agent: "test",
    detail: JSON.stringify({ ticket: "INC-1", previousEmail, pendingEmail: null, sessionsEnded: 1 }),
  });

  beforeAll(async () => {
    database = await testDatabase(dialect, `resetconf_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, "024-counters-ever-locked");
    await store.db
      .insertInto("users")
      .values([
        user("Reset.Once", null, null),
        user("reset.twice", null, null),
        user("never.confirmed", null, null),
        user("never.reset", null, null),
        user("kept.by.new.code", null, T0 + 9 * HOUR),
        user("enrolled.again", "again@dealer.example", T0 + 5 * HOUR),
      ] as never)
      .execute();
    await store.db
      .insertInto("audit")
      .values([
        reset("Reset.Once", T0 + HOUR, "once@dealer.example"),
        reset("reset.twice", T0 + HOUR, "first@dealer.example"),
        reset("reset.twice", T0 + 3 * HOUR, "second@dealer.example"),
        // A reset that cleared only an address typed and never confirmed (previousEmail null).
        reset("never.confirmed", T0 + 2 * HOUR, null),
        // Another account's event that names this one's address is not its reset.
        { ...reset("someone.else", T0 + HOUR, "never.reset@dealer.example"), detail: JSON.stringify({ ticket: "never.reset", previousEmail: "x@dealer.example" }) },
        reset("kept.by.new.code", T0 + 8 * HOUR, "kept@dealer.example"),
        reset("enrolled.again", T0 + 4 * HOUR, "old@dealer.example"),
      ] as never)
      .execute();
    await migrateTo(store, "025-reset-confirmations");
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("restores otp_email_confirmed_at from the last reset that cleared a confirmed address, and only where it is NULL", async () => {
    const rows = await store.db.selectFrom("users").select(["login_id", "otp_email_confirmed_at"]).orderBy("login_id").execute();
    expect(Object.fromEntries(rows.map((r) => [r.login_id, r.otp_email_confirmed_at === null ? null : Number(r.otp_email_confirmed_at)]))).toEqual({
      "Reset.Once": T0 + HOUR,
      "enrolled.again": T0 + 5 * HOUR,
      "kept.by.new.code": T0 + 9 * HOUR,
      "never.confirmed": null,
      "never.reset": null,
      "reset.twice": T0 + 3 * HOUR,
    });
  });
});
