import { existsSync, readFileSync } from "node:fs";
import { sql, type Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { deriveKeys } from "../../src/platform/keys.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { counterKey, reserveAttempt } from "../../src/regulation/throttle.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo, migrateToLatest } from "../../src/store/migrate.ts";
import type { Database } from "../../src/store/schema.ts";
import { auditRecords, UNKNOWN_LOGIN_ID } from "../../src/support/audit-trail.ts";
import { loginDigest, NO_ACCOUNT_PREFIX } from "../../src/users/login-digest.ts";
import { loginKey } from "../../src/users/users.ts";
import { addUser, createTestApp, TEST_SECRET, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "../store/dialects.ts";

/**
 * ASVS 7.1.1 / 7.1.2: text typed into Login ID (Log in, Forgot password?) that no account has is now
 * and then the password. It reaches no storage as typed: neither the throttle's counters nor the audit
 * trail hold it, in any table, nor (SQLite) in the database file or its WAL.
 */

/** Every row of every FAMOS table, as text. */
async function everyTable(db: Kysely<Database>, dialect: string): Promise<string> {
  const tables =
    dialect === "sqlite"
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)).rows;
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["audit", "throttles", "users", "sessions", "outbox"]));
  const dumps: string[] = [];
  for (const { name } of tables) dumps.push(name, JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(db)).rows));
  return dumps.join("\n");
}

/** The forms of the secret a store might hold: as typed, lower-cased, as its login key. */
const forms = (secret: string) => [...new Set([secret, secret.toLowerCase(), loginKey(secret)])];

function expectNowhere(text: string, secret: string): void {
  for (const form of forms(secret)) expect(text.includes(form), `"${form}" is stored`).toBe(false);
}

/** The SQLite file, its WAL and shared memory, as bytes (UTF-8 text is searched as bytes). */
function expectNotInFiles(path: string, secret: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    for (const form of forms(secret)) expect(bytes.includes(Buffer.from(form, "utf8")), `"${form}" is in ${file}`).toBe(false);
  }
}

describe.each(DIALECTS)("a password typed as the login ID is stored nowhere as typed (%s)", (database) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("ASVS 7.1.1: after sign-ins and a Forgot password? with the password in the Login ID field, no table holds it, and its lock works on the same schedule", async () => {
    t = await createTestApp({ database, env: { FAMOS_PASSWORD_RESET: "self" } });
    const user = await addUser(t.deps, { loginId: `rest.victim.${database}`, password: `Autofill Put Me Here ${database} 42` });
    const ip = "10.0.81.1";
    const client = new FormClient(t.app, ip);
    await client.get("/forgot-password");
    expect((await client.post("/forgot-password", { loginId: user.password })).statusCode).toBe(303);
    await t.app.afterReply.settled();
    await client.get("/forgot-password/code");
    await client.post("/forgot-password/code", { code: "123456", newPassword: "a long new password 77", confirmNewPassword: "a long new password 77" });
    // Five wrong attempts lock the login ID for new browsers; the sixth is refused by that pause.
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push((await submitPassword(new FormClient(t.app, ip), user.password, user.password)).statusCode);
    expect(answers).toEqual([401, 401, 401, 401, 401, 401]);
    // Then the right way round, from the same address.
    expect((await submitPassword(new FormClient(t.app, ip), user.login_id, user.password)).headers.location).toBe("/otp");

    expectNowhere(await everyTable(t.deps.db, database), user.password);
    if (database === "sqlite") expectNotInFiles(t.config.databaseUrl.slice("sqlite:".length), user.password);

    // Counted and locked all the same, under the login ID's digest.
    const digest = loginDigest(t.deps.keys, loginKey(user.password));
    const counter = await t.deps.db.selectFrom("throttles").select(["failures", "locked_until"]).where("key", "=", counterKey.loginId("password", digest)).executeTakeFirstOrThrow();
    expect(counter.failures).toBe(5);
    expect(Number(counter.locked_until)).toBeGreaterThan(t.clock.now());
    // Audited as a login ID no account has: its digest stored, the same words shown as before.
    const stored = await t.deps.db.selectFrom("audit").select(["event", "actor", "subject", "detail"]).where("ip", "=", ip).where("subject", "=", `${NO_ACCOUNT_PREFIX}${digest}`).execute();
    expect(new Set(stored.map((r) => r.event))).toEqual(new Set(["password.failed", "lock.started", "code.failed"]));
    expect(stored.filter((r) => r.event === "password.failed").every((r) => r.actor === r.subject && !r.detail.includes("typed"))).toBe(true);
    const trail = [];
    for await (const record of auditRecords(t.deps.db, { since: 0 }, "asc")) if (record.ip === ip) trail.push(record);
    expect(trail.filter((r) => r.event === "password.failed" && r.subject === UNKNOWN_LOGIN_ID)).toHaveLength(6);
    expect(trail.some((r) => r.event === "password.ok" && r.subject === user.login_id)).toBe(true);
  });
});

describe.each(DIALECTS)("migration 019-login-digests on %s: an upgrade leaves no login ID typed that no account has", (dialect) => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await database?.drop();
    store = undefined;
    database = undefined;
  });

  const secret = "Hunter2-Typed-As-Login";
  const keys = deriveKeys(Buffer.from(TEST_SECRET, "hex"));
  const now = Date.now();

  async function olderDatabase() {
    database = await testDatabase(dialect, `digests_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, "017-throttles-by-key");
    const db = store.db;
    await db.insertInto("users").values({ id: "u-known", login_id: "Known.One", login_key: "known.one", full_name: "Known One", partner_number: "1", role: "user", password_hash: "x", otp_email: null, otp_email_confirmed_at: null, pending_email: null, last_sign_in_at: null, created_at: now, updated_at: now } as never).execute();
    const counter = (key: string, failures: number, lockedUntil: number, hard = 0) => ({ key, failures, locked_until: lockedUntil, hard_locked: hard, updated_at: now, window_started_at: 0 });
    await db.insertInto("throttles").values([
      counter(`password:id:${loginKey(secret)}`, 5, now + 60_000),
      counter(`reset:id:${loginKey(secret)}`, 1, 0),
      counter("code:id:known.one", 100, 0, 1),
      counter("ip:10.0.0.9", 7, 0),
    ]).execute();
    const row = (event: string, actor: string | null, subject: string | null, detail: object) => ({ time: now, event, actor, subject, ip: "10.0.0.9", user_agent: "UA", detail: JSON.stringify(detail) });
    await db.insertInto("audit").values([
      row("password.failed", loginKey(secret), loginKey(secret), { reason: "unknown-login-id", typed: secret }),
      row("lock.started", null, loginKey(secret), { kind: "password", scope: "login-id" }),
      row("code.failed", loginKey(secret), loginKey(secret), { purpose: "password-reset", result: "no-code" }),
      row("password.failed", "known.one", "known.one", { reason: "wrong-password", typed: "Known.One" }),
      row("lock.started", null, null, { kind: "password", scope: "address" }),
    ]).execute();
    return db;
  }

  it("rewrites the counters and audit rows of a login ID no account has, keeps an account's, and every lock holds", async () => {
    const db = await olderDatabase();
    await migrateToLatest(store!, keys);
    expectNowhere(await everyTable(db, dialect), secret);
    if (dialect === "sqlite") expectNotInFiles(database!.url.slice("sqlite:".length), secret);

    const digest = loginDigest(keys, loginKey(secret));
    // The unknown login ID's lock is still in force for new browsers, now under its digest.
    const settings = { lock: { after: 5, baseMs: 60_000, maxMs: 3_600_000, codeHardLock: 100 }, address: { lockAfter: 50, windowMs: 900_000, trustedNetworks: [] }, deviceLockAfter: 10 };
    expect(await reserveAttempt(db, "password", { loginKey: digest, ip: "10.0.0.10" }, now, settings)).toMatchObject({ ok: false, pause: { scope: "login-id" } });
    // The account's lock until support unlocks it holds, as support sees it.
    expect(await accountLockInfo({ db, keys }, "known.one", now)).toMatchObject({ hardLocked: true, codeFailures: 100 });
    expect((await db.selectFrom("throttles").select("key").orderBy("key").execute()).map((r) => r.key).sort()).toEqual(
      [counterKey.loginId("code", loginDigest(keys, "known.one")), "ip:10.0.0.9", counterKey.loginId("password", digest), counterKey.loginId("reset", digest)].sort(),
    );
    const audit = await db.selectFrom("audit").select(["event", "actor", "subject", "detail"]).orderBy("id").execute();
    const unknown = `${NO_ACCOUNT_PREFIX}${digest}`;
    expect(audit).toEqual([
      { event: "password.failed", actor: unknown, subject: unknown, detail: JSON.stringify({ reason: "unknown-login-id" }) },
      { event: "lock.started", actor: null, subject: unknown, detail: JSON.stringify({ kind: "password", scope: "login-id" }) },
      { event: "code.failed", actor: unknown, subject: unknown, detail: JSON.stringify({ purpose: "password-reset", result: "no-code" }) },
      { event: "password.failed", actor: "known.one", subject: "known.one", detail: JSON.stringify({ reason: "wrong-password", typed: "Known.One" }) },
      { event: "lock.started", actor: null, subject: null, detail: JSON.stringify({ kind: "password", scope: "address" }) },
    ]);
  });

  it("merges the counters an older version kept apart for one login ID (its accents decomposed before migration 013, composed after): the strictest lock holds, nothing fails on the key", async () => {
    const db = await olderDatabase();
    // "Jürgen" as a Mac's export types it (u + U+0308), lower-cased only (before 013), and composed (after).
    const decomposed = "j\u0075\u0308rgen.k";
    const composed = loginKey(decomposed);
    expect(composed).not.toBe(decomposed);
    const counter = (key: string, failures: number, lockedUntil: number, hard: number, updatedAt: number) => ({ key, failures, locked_until: lockedUntil, hard_locked: hard, updated_at: updatedAt, window_started_at: 0 });
    await db.insertInto("throttles").values([
      counter(`code:id:${decomposed}`, 100, 0, 1, now - 86_400_000),
      counter(`code:id:${composed}`, 3, 0, 0, now),
      counter(`password:id:${decomposed}`, 2, 0, 0, now - 60_000),
      counter(`password:id:${composed}`, 6, now + 120_000, 0, now - 120_000),
    ]).execute();
    await migrateToLatest(store!, keys);
    const digest = loginDigest(keys, composed);
    const rows = await db.selectFrom("throttles").select(["key", "failures", "locked_until", "hard_locked", "updated_at"]).where("key", "in", [counterKey.loginId("code", digest), counterKey.loginId("password", digest)]).orderBy("key").execute();
    expect(rows.map((r) => ({ ...r, failures: Number(r.failures), locked_until: Number(r.locked_until), hard_locked: Number(r.hard_locked), updated_at: Number(r.updated_at) }))).toEqual([
      { key: counterKey.loginId("code", digest), failures: 100, locked_until: 0, hard_locked: 1, updated_at: now },
      { key: counterKey.loginId("password", digest), failures: 6, locked_until: now + 120_000, hard_locked: 0, updated_at: now - 60_000 },
    ]);
    expect(await db.selectFrom("throttles").select("key").where("key", "like", "%rgen.k").execute()).toEqual([]);
  });

  it("refuses, changing nothing, to rewrite without the server's keys", async () => {
    const db = await olderDatabase();
    await expect(migrateToLatest(store!)).rejects.toThrow(/019-login-digests.*FAMOS_SECRET/);
    expect(await db.selectFrom("throttles").select("key").where("key", "=", `password:id:${loginKey(secret)}`).execute()).toHaveLength(1);
  });
});
