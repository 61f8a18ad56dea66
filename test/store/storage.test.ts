import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../src/audit/audit.ts";
import { userMailDeliveries } from "../../src/mail/deliveries.ts";
import { claimDueMail, enqueueMail, markAttemptFailed, markSent, outboxDepth } from "../../src/mail/outbox.ts";
import { issueCode, verifyCode } from "../../src/otp/codes.ts";
import { flowWithCurrentCode } from "../../src/otp/current-code.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { recordFailure } from "../../src/regulation/throttle.ts";
import { createSession, endUserSessions, loadSignedIn } from "../../src/session/sessions.ts";
import { openStore } from "../../src/store/database.ts";
import { migrateDownAll, migrateToLatest, MIGRATION_NAMES, pendingMigrations } from "../../src/store/migrate.ts";
import { createUser, findUserByLogin } from "../../src/users/users.ts";
import { factorsOf, factorsWithPasskeys } from "../../src/strong-factors/factors.ts";
import { extractCode } from "../support/smtp.ts";
import { DIALECTS, openInstances, testDatabase, type TestDialect } from "./dialects.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

const newUser = (loginId: string) => ({
  loginId,
  fullName: "Jane Smith",
  partnerNumber: "01234",
  role: "user" as const,
  passwordHash: "x",
  otpEmail: `${loginId.toLowerCase()}@dealer.example`,
});

/** The same storage code, the same tests, on both databases (SPEC: one machine on SQLite, many on PostgreSQL). */
describe.each(DIALECTS)("storage on %s", (dialect: TestDialect) => {
  // Two separate connections to one database, as two instances would have.
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 2, `store_${dialect}`);
  });
  afterAll(async () => t?.close());
  const db = (i: number) => t.stores[i % 2]!.db;

  it("migrates up from empty, down to empty, and up again", async () => {
    const database = await testDatabase(dialect, `migr_${dialect}`);
    const store = openStore(database.url);
    try {
      expect(await pendingMigrations(store)).toEqual(MIGRATION_NAMES);
      const up = await migrateToLatest(store);
      expect(up.results?.map((r) => [r.migrationName, r.status])).toEqual(MIGRATION_NAMES.map((name) => [name, "Success"]));
      expect(await pendingMigrations(store)).toEqual([]);
      expect((await migrateToLatest(store)).results).toEqual([]);
      await createUser(store.db, TEST_KEYS, cryptoRandom, 1, newUser("m1"));

      await migrateDownAll(store);
      expect(await pendingMigrations(store)).toEqual(MIGRATION_NAMES);
      await expect(store.db.selectFrom("users").selectAll().execute()).rejects.toThrow();

      await migrateToLatest(store);
      expect(await store.db.selectFrom("users").selectAll().execute()).toEqual([]);
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it("keeps login IDs unique without regard to case: a second add of one is refused as a value, the first kept", async () => {
    await createUser(db(0), TEST_KEYS, cryptoRandom, 1, newUser("Alice.Case"));
    expect(await createUser(db(1), TEST_KEYS, cryptoRandom, 2, { ...newUser("alice.case"), fullName: "Another Alice" })).toBeNull();
    const found = await findUserByLogin(db(1), "ALICE.CASE");
    expect(found).toMatchObject({ login_id: "Alice.Case", full_name: "Jane Smith", created_at: 1 });
  });

  it("consumes the right code once when many requests race with it on two connections", async () => {
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const user = (await createUser(deps.db, TEST_KEYS, cryptoRandom, now, newUser("racer")))!;
    const flow = await createFlow(deps.db, cryptoRandom, { userId: user.id, kind: "signin", email: user.otp_email!, now });
    const issued = await deps.db.transaction().execute((tx) => issueCode(deps, tx, flow, user.login_id, now));
    if (issued.kind !== "sent") throw new Error(issued.kind);
    const mail = await deps.db.selectFrom("outbox").select("text_body").where("id", "=", issued.outboxId).executeTakeFirstOrThrow();
    const code = extractCode(mail.text_body);

    const outcomes = await Promise.all(Array.from({ length: 24 }, (_, i) => verifyCode(t.deps[i % 2]!, flow.id, code, now)));
    expect(outcomes.filter((o) => o.kind === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind !== "ok").every((o) => o.kind === "used")).toBe(true);
  });

  it("lets exactly FAMOS_LOCK_AFTER of 50 concurrent attempts through, on two connections", async () => {
    const subject = { loginKey: "hammered", ip: "192.0.2.50" };
    const settings = { lock: { after: 5, baseMs: 60_000, maxMs: 3_600_000, codeHardLock: 100_000 }, address: { lockAfter: 1000, windowMs: 900_000, trustedNetworks: [] }, deviceLockAfter: 10 };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => recordFailure(db(i), "password", subject, t.clock.now(), settings)));
    // The conditional upsert counts and refuses in one statement: five counted, 45 refused uncounted.
    expect(results.filter((r) => r !== null).map((r) => r!.failures).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    const rows = await db(0).selectFrom("throttles").select(["key", "failures"]).where("key", "in", ["password:id:hammered", "ip:192.0.2.50"]).orderBy("key").execute();
    expect(rows).toEqual([
      { key: "ip:192.0.2.50", failures: 5 },
      { key: "password:id:hammered", failures: 5 },
    ]);
  });

  it("ends every live session of a user, each exactly once, from two connections at once", async () => {
    const now = t.clock.now();
    const policy = { idleMs: 1_800_000, maxMs: 43_200_000, cookieDomain: null };
    const user = (await createUser(db(0), TEST_KEYS, cryptoRandom, now, newUser("many-sessions")))!;
    const other = (await createUser(db(0), TEST_KEYS, cryptoRandom, now, newUser("bystander")))!;
    const make = (userId: string) => createSession(db(0), cryptoRandom, now, policy, { userId, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "t" });
    const mine = await Promise.all(Array.from({ length: 6 }, () => make(user.id)));
    const theirs = await make(other.id);
    const keep = mine[0]!;

    const ended = await Promise.all([
      endUserSessions(db(0), user.id, now, "password-changed", keep.session.id),
      endUserSessions(db(1), user.id, now, "password-changed", keep.session.id),
    ]);
    expect(ended[0]! + ended[1]!).toBe(5);
    for (const s of mine.slice(1)) expect(await loadSignedIn(db(1), s.token, now, policy)).toBeNull();
    expect(await loadSignedIn(db(1), keep.token, now, policy)).not.toBeNull();
    expect(await loadSignedIn(db(1), theirs.token, now, policy)).not.toBeNull();
  });

  it("never hands one outbox message to two concurrent claimers", async () => {
    const now = t.clock.now();
    await db(0).updateTable("outbox").set({ state: "sent" }).execute(); // earlier tests' code mail
    const ids = new Set<string>();
    for (let i = 0; i < 120; i += 1) {
      ids.add(
        await enqueueMail(db(0), now, cryptoRandom, "famos.test", { userId: null, kind: "test", recipient: `r${i}@dealer.example`, subject: "s", text: "t", html: "h" }),
      );
    }
    // Eight claimers, four on each connection, each taking small batches until nothing is due.
    const claimer = async (i: number) => {
      const got: string[] = [];
      for (;;) {
        const batch = await claimDueMail(db(i), dialect, now, 60_000, 3);
        if (batch.length === 0) return got;
        got.push(...batch.map((m) => m.id));
      }
    };
    const claimed = (await Promise.all(Array.from({ length: 8 }, (_, i) => claimer(i)))).flat();
    expect(claimed).toHaveLength(120);
    expect(new Set(claimed)).toEqual(ids);
    expect(await outboxDepth(db(1))).toBe(120); // claimed, not yet sent
    await db(0).updateTable("outbox").set({ state: "sent" }).execute();
  });

  it("gives a message whose sender died to the next claimer, and ignores the late sender", async () => {
    const now = t.clock.now();
    const id = await enqueueMail(db(0), now, cryptoRandom, "famos.test", { userId: "u-lease", kind: "lease", recipient: "x@dealer.example", subject: "s", text: "t", html: "h" });
    const [first] = await claimDueMail(db(0), dialect, now, 60_000, 10);
    expect(first?.id).toBe(id);
    expect(await claimDueMail(db(1), dialect, now + 59_000, 60_000, 10)).toEqual([]);
    const [second] = await claimDueMail(db(1), dialect, now + 61_000, 60_000, 10);
    expect(second).toMatchObject({ id, attempts: 2, message_id: first!.message_id });
    // The first sender wakes up late: its outcome no longer counts.
    expect(await markAttemptFailed(db(0), first!, "late", now + 70_000)).toBe(false);
    expect(await markSent(db(1), second!, now + 62_000)).toBe(true);
    expect(await markSent(db(0), first!, now + 63_000)).toBe(false);
    const [delivery] = await userMailDeliveries(db(1), "u-lease");
    expect(delivery).toMatchObject({ id, state: "sent", attempts: 2, sentAt: now + 62_000 });
  });

  it("keeps the audit trail append-only in the database itself", async () => {
    await recordAudit(db(0), t.clock.now(), { event: "signout", actor: "a", subject: "a", ip: "192.0.2.1", userAgent: "t" });
    await expect(db(1).updateTable("audit").set({ actor: "someone else" }).execute()).rejects.toThrow(/append-only/);
    await expect(db(1).deleteFrom("audit").execute()).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit`.execute(db(0))).rejects.toThrow(/append-only/);
    const rows = await db(1).selectFrom("audit").select("actor").where("event", "=", "signout").execute();
    expect(rows).toEqual([{ actor: "a" }]);
  });

  it("reads a flow with its current code in one statement (issue 17): the latest, and of two in the same millisecond the live one", async () => {
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const user = (await createUser(deps.db, TEST_KEYS, cryptoRandom, now, newUser("current")))!;
    const flow = await createFlow(deps.db, cryptoRandom, { userId: user.id, kind: "signin", email: user.otp_email!, now });
    expect(await flowWithCurrentCode(db(1), flow.id)).toEqual({ flow, code: undefined });
    expect(await flowWithCurrentCode(db(1), "no-such-flow")).toBeUndefined();
    const issued = await deps.db.transaction().execute((tx) => issueCode(deps, tx, flow, user.login_id, now));
    if (issued.kind !== "sent") throw new Error(issued.kind);
    const code = { flow_id: flow.id, user_id: user.id, code_hash: "h", email: user.otp_email!, outbox_id: null, expires_at: now + 1, tries: 0, consumed_at: null };
    // Written after the live one, same millisecond, voided: the live one stays current.
    await db(0).insertInto("codes").values({ ...code, id: "same-ms-voided", created_at: now, voided_at: now, void_reason: "regenerated" }).execute();
    expect(await flowWithCurrentCode(db(1), flow.id)).toEqual({
      flow: { ...flow, codes_sent: 1, last_code_at: now },
      code: { id: issued.codeId, created_at: now, expires_at: issued.expiresAt, tries: 0, voided_at: null, void_reason: null, consumed_at: null, email: user.otp_email, mail_state: "queued", mail_waiting: true },
    });
    // A later code is current even when voided.
    await db(0).insertInto("codes").values({ ...code, id: "later-voided", created_at: now + 1, voided_at: now + 1, void_reason: "cancelled" }).execute();
    expect((await flowWithCurrentCode(db(1), flow.id))?.code).toMatchObject({ id: "later-voided", mail_state: null });
  });

  it("sums up a user's strong factors in one statement (issue 17), counting only that user's", async () => {
    const now = t.clock.now();
    const user = (await createUser(db(0), TEST_KEYS, cryptoRandom, now, newUser("factors")))!;
    const other = (await createUser(db(0), TEST_KEYS, cryptoRandom, now, newUser("factors-other")))!;
    expect(await factorsOf(db(1), user.id)).toEqual({ passkeys: 0, passkeysLastUsedAt: null, app: null, appPending: false, recoveryCodesLeft: 0, recoveryCodesLastUsedAt: null });
    expect(await factorsWithPasskeys(db(1), user.id)).toEqual({ factors: await factorsOf(db(1), user.id), passkeys: [] });
    const passkey = (id: string, userId: string, lastUsed: number | null) => ({
      id, user_id: userId, credential_id: id, public_key: "k", sign_count: 0, transports: null, device_type: "singleDevice", backed_up: 0, name: id, created_at: now, last_used_at: lastUsed,
    });
    await db(0).insertInto("passkeys").values([passkey("p1", user.id, now + 5), passkey("p2", user.id, null), passkey("p3", other.id, now + 9)]).execute();
    await db(0).insertInto("authenticator_apps").values({ user_id: user.id, secret: "s", created_at: now, confirmed_at: null, last_step: null, last_used_at: null }).execute();
    const code = (id: string, userId: string, usedAt: number | null) => ({ id, user_id: userId, code_hash: id, created_at: now, used_at: usedAt });
    await db(0).insertInto("recovery_codes").values([code("r1", user.id, null), code("r2", user.id, now + 7), code("r3", user.id, null), code("r4", other.id, null)]).execute();
    expect(await factorsOf(db(1), user.id)).toEqual({ passkeys: 2, passkeysLastUsedAt: now + 5, app: null, appPending: true, recoveryCodesLeft: 2, recoveryCodesLastUsedAt: now + 7 });
    // Profile's one statement: the same aggregate, and the passkeys themselves oldest first.
    expect(await factorsWithPasskeys(db(1), user.id)).toEqual({
      factors: await factorsOf(db(1), user.id),
      passkeys: [
        { id: "p1", name: "p1", createdAt: now, lastUsedAt: now + 5, backedUp: false },
        { id: "p2", name: "p2", createdAt: now, lastUsedAt: null, backedUp: false },
      ],
    });
    await db(0).updateTable("authenticator_apps").set({ confirmed_at: now + 1, last_used_at: now + 2 }).where("user_id", "=", user.id).execute();
    expect((await factorsOf(db(1), user.id)).app).toEqual({ confirmedAt: now + 1, lastUsedAt: now + 2 });
    expect((await factorsOf(db(1), user.id)).appPending).toBe(false);
    expect((await factorsWithPasskeys(db(1), user.id)).factors).toEqual(await factorsOf(db(1), user.id));
  });
});
