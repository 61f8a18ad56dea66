import { NO_ACCOUNT_PREFIX } from "../../src/users/login-digest.ts";
import { loginCounterKey, testLoginDigest } from "../support/login-counter.ts";
import { hashSync as bcryptHashSync } from "@node-rs/bcrypt";
import { beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { checkCode } from "../../src/factors/check-code.ts";
import { checkPassword, type PasswordPurpose } from "../../src/factors/check-password.ts";
import { checkSecondFactor, type SecondFactor } from "../../src/factors/check-second-factor.ts";
import { MAX_LOGIN_ID_LENGTH, MAX_PASSWORD_LENGTH } from "../../src/factors/limits.ts";
import type { OutboxMessage } from "../../src/mail/outbox.ts";
import { createFlow, findFlow, type Flow } from "../../src/otp/flows.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { rememberDevice } from "../../src/regulation/devices.ts";
import { issueRecoveryCodes, recoveryCodeFactor } from "../../src/strong-factors/recovery-codes.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { sendInSession } from "./send-in-session.ts";
import { createUnitDeps, useUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/**
 * The factor rules at their one home (src/factors, SPEC "Locks", "Tries", ASVS 2.2.1): the password
 * and every second factor are paused, counted before verifying, audited, and tell the holder of a
 * new lock — whichever flow asks. Called directly, over in-memory SQLite and a fixed clock.
 */
describe("the factors (unit tier)", () => {
  const unit = useUnitDeps();
  /** The file's deps, whose mailQueued is counted (unit.queued). */
  let deps: Deps;
  let n = 0;
  beforeAll(() => {
    deps = unit.deps;
  });

  const db = () => unit.deps.db;
  const now = () => unit.clock.now();
  const ctx = (extra: Partial<RequestContext> = {}): RequestContext => ({ ip: `198.51.100.${++n % 250}`, userAgent: "factor-test", ...extra });
  const audits = (subject: string) => db().selectFrom("audit").select(["event", "actor", "subject", "ip", "user_agent", "detail"]).where("subject", "=", subject).orderBy("id").execute();
  const counter = (key: string) => db().selectFrom("throttles").select(["failures", "locked_until", "hard_locked"]).where("key", "=", key).executeTakeFirst();
  const lockMails = (userId: string) => db().selectFrom("outbox").select("kind").where("user_id", "=", userId).where("kind", "=", "lock").execute();
  const metric = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) => (await m.get()).values.reduce((s, v) => s + v.value, 0);

  describe("checkPassword", () => {
    const check = (loginId: string, password: string, c = ctx(), purpose: PasswordPurpose = "signin") => checkPassword(deps, { loginId, password, purpose }, c);

    it("lets the right password in, ends the login ID's run, and audits it against the login key", async () => {
      const user = await addUser(unit.deps);
      const c = ctx();
      await check(user.login_id, "wrong password here", c);
      expect(await counter(loginCounterKey("password", user.login_id))).toMatchObject({ failures: 1 });
      const ok = await check(user.login_id, user.password, c);
      expect(ok).toEqual({ kind: "ok", user: expect.objectContaining({ id: user.id }), loginKey: user.login_id, deviceId: null });
      expect(await counter(loginCounterKey("password", user.login_id))).toBeUndefined();
      expect((await audits(user.login_id)).map((a) => [a.event, JSON.parse(a.detail)])).toEqual([
        ["password.failed", { reason: "wrong-password" }],
        ["password.ok", {}],
      ]);
      expect((await audits(user.login_id))[1]).toMatchObject({ actor: user.login_id, ip: c.ip, user_agent: "factor-test" });
    });

    it("counts and audits the login ID as typed under its key, and says which flow asked", async () => {
      const user = await addUser(unit.deps);
      const typed = `  ${user.login_id.toUpperCase()}`;
      expect(await check(typed, user.password, ctx(), "email-change")).toMatchObject({ kind: "ok", loginKey: user.login_id });
      expect(await check(typed, "wrong password here", ctx(), "password-change")).toEqual({ kind: "wrong", pause: null });
      expect((await audits(user.login_id)).map((a) => JSON.parse(a.detail))).toEqual([
        { typed, during: "email-change" },
        { reason: "wrong-password", typed, during: "password-change" },
      ]);
      // The typed form goes along at most MAX_LOGIN_ID_LENGTH characters long.
      const padded = user.login_id + " ".repeat(200);
      await check(padded, user.password);
      expect(JSON.parse((await audits(user.login_id)).at(-1)!.detail)).toEqual({ typed: padded.slice(0, MAX_LOGIN_ID_LENGTH) });
    });

    it("answers an unknown login ID like a wrong password, counted and audited alike", async () => {
      const ghost = `ghost-${++n}`;
      expect(await check(ghost, "whatever it is")).toEqual({ kind: "wrong", pause: null });
      expect(await counter(loginCounterKey("password", ghost))).toMatchObject({ failures: 1 });
      // Audited under the login ID's keyed digest, never as typed (src/users/login-digest.ts).
      expect(await audits(ghost)).toEqual([]);
      expect((await audits(`${NO_ACCOUNT_PREFIX}${testLoginDigest(ghost)}`)).map((a) => JSON.parse(a.detail))).toEqual([{ reason: "unknown-login-id" }]);
    });

    it("answers a disabled account, or an expired temporary password, as an unknown one, with the reason audited", async () => {
      const disabled = await addUser(unit.deps);
      await db().updateTable("users").set({ disabled_at: now() }).where("id", "=", disabled.id).execute();
      expect(await check(disabled.login_id, disabled.password)).toEqual({ kind: "wrong", pause: null });
      const temporary = await addUser(unit.deps);
      await db().updateTable("users").set({ password_temporary_until: now() }).where("id", "=", temporary.id).execute();
      expect(await check(temporary.login_id, temporary.password)).toEqual({ kind: "wrong", pause: null });
      expect(JSON.parse((await audits(disabled.login_id))[0]!.detail)).toEqual({ reason: "disabled" });
      expect(JSON.parse((await audits(temporary.login_id))[0]!.detail)).toEqual({ reason: "temporary-password-expired" });
    });

    it("refuses an empty or over-long login ID or password before anything is counted or audited", async () => {
      const user = await addUser(unit.deps, { loginId: "l".repeat(MAX_LOGIN_ID_LENGTH), password: "p".repeat(MAX_PASSWORD_LENGTH) });
      const long = "m".repeat(MAX_LOGIN_ID_LENGTH + 1);
      for (const [loginId, password] of [
        ["", "some password"],
        ["   ", "some password"],
        [long, "some password"],
        [user.login_id, ""],
        [user.login_id, "p".repeat(MAX_PASSWORD_LENGTH + 1)],
      ] as const) {
        expect(await check(loginId, password)).toEqual({ kind: "wrong", pause: null });
      }
      expect(await counter(loginCounterKey("password", long))).toBeUndefined();
      expect(await counter(loginCounterKey("password", ""))).toBeUndefined();
      expect(await counter(loginCounterKey("password", user.login_id))).toBeUndefined();
      expect(await audits(user.login_id)).toEqual([]);
      expect(await audits(long)).toEqual([]);
      // Exactly at the limits is fine.
      expect(await check(user.login_id, user.password)).toMatchObject({ kind: "ok" });
    });

    it("pauses at FAMOS_LOCK_AFTER: the lock is reported, mailed once, and the next attempt refused unverified", async () => {
      const user = await addUser(unit.deps);
      const before = unit.queued;
      for (let i = 0; i < 4; i++) expect(await check(user.login_id, "wrong password here")).toEqual({ kind: "wrong", pause: null });
      expect(await check(user.login_id, "wrong password here")).toEqual({ kind: "wrong", pause: { scope: "login-id", until: now() + MINUTE } });
      expect(await lockMails(user.id)).toHaveLength(1);
      expect(unit.queued).toBe(before + 1);
      const c = ctx();
      expect(await check(user.login_id, user.password, c)).toEqual({ kind: "paused", pause: { scope: "login-id", until: now() + MINUTE } });
      expect(JSON.parse((await audits(user.login_id)).at(-1)!.detail)).toEqual({ reason: "locked", pause: "login-id" });
      expect(await counter(loginCounterKey("password", user.login_id))).toMatchObject({ failures: 5 });
      expect(await lockMails(user.id)).toHaveLength(1);
      unit.clock.advance(MINUTE);
      expect(await check(user.login_id, user.password)).toMatchObject({ kind: "ok" });
    });

    it("counts a remembered browser on its device and hands its id on", async () => {
      const user = await addUser(unit.deps);
      const token = await rememberDevice(deps, db(), user.login_id, null, now());
      const [device] = await db().selectFrom("devices").select("id").where("login_key", "=", user.login_id).execute();
      const c = ctx({ deviceTokens: [token] });
      await check(user.login_id, "wrong password here", c);
      expect(await counter(`password:dev:${device!.id}`)).toMatchObject({ failures: 1 });
      expect(await counter(loginCounterKey("password", user.login_id))).toBeUndefined();
      expect(await check(user.login_id, user.password, c)).toMatchObject({ kind: "ok", deviceId: device!.id });
    });

    it("checks the account the caller names (Profile knows who is signed in)", async () => {
      const user = await addUser(unit.deps);
      const stranger = `not-${user.login_id}`;
      const found = await checkPassword(deps, { loginId: stranger, password: user.password, purpose: "email-change", user }, ctx());
      expect(found).toMatchObject({ kind: "ok", user: { id: user.id }, loginKey: stranger });
    });

    it("upgrades an imported hash after the right password, and only then", async () => {
      const user = await addUser(unit.deps);
      const legacy = bcryptHashSync(user.password, 4);
      await db().updateTable("users").set({ password_hash: legacy }).where("id", "=", user.id).execute();
      expect(await check(user.login_id, "wrong password here")).toMatchObject({ kind: "wrong" });
      expect((await findUserByLogin(db(), user.login_id))!.password_hash).toBe(legacy);
      unit.clock.advance(1);
      expect(await check(user.login_id, user.password)).toMatchObject({ kind: "ok" });
      const upgraded = (await findUserByLogin(db(), user.login_id))!;
      expect(upgraded.password_hash).toMatch(/^\$argon2id\$/);
      expect(upgraded.updated_at).toBe(now());
      // FAMOS's own hash is kept as it is at the next sign-in (no new salt, no write).
      unit.clock.advance(1);
      expect(await check(user.login_id, user.password)).toMatchObject({ kind: "ok" });
      expect(await findUserByLogin(db(), user.login_id)).toMatchObject({ password_hash: upgraded.password_hash, updated_at: upgraded.updated_at });
    });

    it("counts nothing for a check the legacy pool refused as busy (nothing was guessed), and audits it", async () => {
      const busy = await createUnitDeps({ env: { FAMOS_LOCK_AFTER: "50" } });
      try {
        const user = await addUser(busy.deps);
        await busy.deps.db.updateTable("users").set({ password_hash: bcryptHashSync(user.password, 6) }).where("id", "=", user.id).execute();
        const c = ctx();
        const results = await Promise.all(Array.from({ length: 8 }, () => checkPassword(busy.deps, { loginId: user.login_id, password: "wrong password here", purpose: "signin" }, c)));
        expect(results.every((r) => r.kind === "wrong" && r.pause === null)).toBe(true);
        const reasons = (await busy.deps.db.selectFrom("audit").select("detail").where("subject", "=", user.login_id).execute()).map((a) => JSON.parse(a.detail).reason as string);
        const evaluated = reasons.filter((r) => r === "wrong-password").length;
        expect(reasons.filter((r) => r === "busy").length).toBeGreaterThan(0);
        expect(evaluated + reasons.filter((r) => r === "busy").length).toBe(8);
        const row = await busy.deps.db.selectFrom("throttles").select("failures").where("key", "=", loginCounterKey("password", user.login_id)).executeTakeFirst();
        expect(row?.failures).toBe(evaluated);
      } finally {
        await busy.close();
      }
    });
  });

  describe("checkCode and checkSecondFactor", () => {
    async function codeFlow(kind: Flow["kind"] = "signin") {
      const user = await addUser(unit.deps);
      const flow = await createFlow(db(), deps.random, { userId: user.id, kind, email: user.otp_email!, now: now() });
      await sendInSession(deps, user, ctx(), async (_tx, send) => ({ issued: await send(flow) }));
      const code = await outboxMailbox(db()).code(user.otp_email!, 0);
      return { user, flow, code };
    }
    const confirmWith =
      <T>(value: T) =>
      async () =>
        value;

    it("confirms the right code once: finishes the flow, audits it, ends the run, and counts it", async () => {
      const { user, flow, code } = await codeFlow();
      const c = ctx();
      await checkCode(deps, { user, flow, typed: otherThan(code) }, c, confirmWith("never"));
      expect(await counter(loginCounterKey("code", user.login_id))).toMatchObject({ failures: 1 });
      const confirmedBefore = await metric(unit.deps.metrics.codesConfirmed);
      let seen: { now: number; deviceId: string | null } | null = null;
      const ok = await checkCode(deps, { user, flow, typed: ` ${code.slice(0, 3)}-${code.slice(3)} ` }, c, async (_tx, at, deviceId) => {
        seen = { now: at, deviceId };
        return "signed in";
      });
      expect(ok).toEqual({ kind: "ok", value: "signed in" });
      expect(seen).toEqual({ now: now(), deviceId: null });
      expect((await findFlow(db(), flow.id))!.finished_at).toBe(now());
      expect(await counter(loginCounterKey("code", user.login_id))).toBeUndefined();
      expect(await metric(unit.deps.metrics.codesConfirmed)).toBe(confirmedBefore + 1);
      const lines = await audits(user.login_id);
      expect(lines.filter((a) => a.event.startsWith("code.") && a.event !== "code.sent").map((a) => [a.event, JSON.parse(a.detail)])).toEqual([
        ["code.failed", { result: "wrong", purpose: "signin" }],
        ["code.confirmed", { purpose: "signin" }],
      ]);
      expect(lines.at(-1)).toMatchObject({ actor: user.login_id, ip: c.ip, user_agent: "factor-test" });
      // The same code again guesses nothing: "used", and its count given back.
      expect(await checkCode(deps, { user, flow, typed: code }, c, confirmWith("again"))).toEqual({ kind: "used" });
      expect(await counter(loginCounterKey("code", user.login_id))).toMatchObject({ failures: 0 });
    });

    it("refuses a malformed code without counting it", async () => {
      const { user, flow } = await codeFlow();
      for (const typed of ["12345", "1234567", "12a456", ""]) expect(await checkCode(deps, { user, flow, typed }, ctx(), confirmWith(1))).toEqual({ kind: "malformed" });
      expect(await counter(loginCounterKey("code", user.login_id))).toBeUndefined();
    });

    it("counts, audits and reports a wrong or expired code with the flow's purpose", async () => {
      const { user, flow, code } = await codeFlow("enrol");
      const failedBefore = await metric(unit.deps.metrics.codesFailed);
      const wrong = await checkCode(deps, { user, flow, typed: otherThan(code) }, ctx(), confirmWith(1));
      expect(wrong).toMatchObject({ kind: "wrong", triesLeft: 4 });
      unit.clock.advance(15 * MINUTE);
      expect(await checkCode(deps, { user, flow, typed: code }, ctx(), confirmWith(1))).toEqual({ kind: "expired" });
      expect(await metric(unit.deps.metrics.codesFailed)).toBe(failedBefore + 2);
      expect(await counter(loginCounterKey("code", user.login_id))).toMatchObject({ failures: 2 });
      expect((await audits(user.login_id)).filter((a) => a.event !== "code.sent").map((a) => [a.event, JSON.parse(a.detail)])).toEqual([
        ["code.failed", { result: "wrong", purpose: "enrol" }],
        ["code.expired", { result: "expired", purpose: "enrol" }],
      ]);
    });

    it("locks at FAMOS_LOCK_AFTER wrong codes across flows, mails the holder once, then refuses unverified", async () => {
      const user = await addUser(unit.deps);
      const before = unit.queued;
      let last;
      for (let i = 0; i < 5; i++) {
        const flow = await createFlow(db(), deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
        await sendInSession(deps, user, ctx(), async (_tx, send) => ({ issued: await send(flow) }));
        last = { flow, code: await outboxMailbox(db()).code(user.otp_email!, 0) };
        await checkCode(deps, { user, flow, typed: otherThan(last.code) }, ctx(), confirmWith(1));
        unit.clock.advance(31_000);
      }
      unit.clock.advance(-31_000);
      expect(await lockMails(user.id)).toHaveLength(1);
      expect(unit.queued).toBe(before + 5 + 1);
      expect(await checkCode(deps, { user, flow: last!.flow, typed: last!.code }, ctx(), confirmWith(1))).toEqual({ kind: "locked", scope: "login-id", until: now() + MINUTE });
      expect(await counter(loginCounterKey("code", user.login_id))).toMatchObject({ failures: 5 });
    });

    it("counts a remembered browser on its device, and gives the device to what confirms", async () => {
      const { user, flow, code } = await codeFlow();
      const token = await rememberDevice(deps, db(), user.login_id, null, now());
      const [device] = await db().selectFrom("devices").select("id").where("login_key", "=", user.login_id).execute();
      const c = ctx({ deviceTokens: ["junk", token] });
      await checkCode(deps, { user, flow, typed: otherThan(code) }, c, confirmWith(1));
      expect(await counter(`code:dev:${device!.id}`)).toMatchObject({ failures: 1 });
      expect(await counter(loginCounterKey("code", user.login_id))).toBeUndefined();
      let given: string | null = null;
      await checkCode(deps, { user, flow, typed: code }, c, async (_tx, _now, deviceId) => (given = deviceId));
      expect(given).toBe(device!.id);
    });

    it("answers 'used' when what confirms finds nothing to do (the session ended meanwhile), and counts no confirmation", async () => {
      const { user, flow, code } = await codeFlow();
      const before = await metric(unit.deps.metrics.codesConfirmed);
      expect(await checkCode(deps, { user, flow, typed: code }, ctx(), async () => null)).toEqual({ kind: "used" });
      expect(await metric(unit.deps.metrics.codesConfirmed)).toBe(before);
    });

    it("uses a proof up in the same transaction as what it confirms: a failure there undoes both", async () => {
      const user = await addUser(unit.deps);
      const consumed: string[] = [];
      const factor: SecondFactor<{ kind: "wrong" }> = {
        verify: async () => ({ kind: "ok" }),
        consume: async (tx, at) => {
          await tx.insertInto("audit").values({ time: at, event: "test.consumed", actor: null, subject: user.login_id, ip: null, user_agent: null, detail: "{}" }).execute();
          consumed.push("yes");
          return "consumed";
        },
        failed: () => ({ event: "code.failed", detail: { result: "test-factor" } }),
        confirmed: { event: "code.confirmed", detail: { purpose: "test-factor" } },
      };
      await expect(
        checkSecondFactor(deps, user, factor, ctx(), async () => {
          throw new Error("the session could not be advanced");
        }),
      ).rejects.toThrow("the session could not be advanced");
      expect(consumed).toEqual(["yes"]);
      expect((await audits(user.login_id)).map((a) => a.event)).toEqual([]);
      expect(await counter(loginCounterKey("code", user.login_id))).toMatchObject({ failures: 1 });
      // Without metrics it still works, and a failure of any factor counts toward the same code lock.
      const failing: SecondFactor<{ kind: "wrong" }> = { ...factor, verify: async () => ({ kind: "wrong" }) };
      expect(await checkSecondFactor(deps, user, failing, ctx(), confirmWith(1))).toEqual({ kind: "wrong" });
      expect(await counter(loginCounterKey("code", user.login_id))).toMatchObject({ failures: 2 });
      expect((await audits(user.login_id)).map((a) => a.event)).toEqual(["code.failed"]);
      expect(await checkSecondFactor(deps, user, factor, ctx(), confirmWith("in"))).toEqual({ kind: "ok", value: "in" });
      expect((await audits(user.login_id)).map((a) => a.event)).toEqual(["code.failed", "test.consumed", "code.confirmed"]);
    });

    const reuseMails = (userId: string) =>
      db().selectFrom("outbox").select(["kind", "recipient", "subject", "text_body", "created_at"]).where("user_id", "=", userId).where("kind", "like", "notice.code%").orderBy("created_at").execute();

    it("answers a used recovery code typed again 'used' and mails the holder's OTP address a 'code reused' notice, at most one an hour (tellCodeReused)", async () => {
      const user = await addUser(unit.deps);
      const { codes } = await db().transaction().execute((tx) => issueRecoveryCodes(tx, deps, user.id));
      const typeAgain = () => checkSecondFactor(deps, user, recoveryCodeFactor(deps, user, codes[0]!), ctx(), confirmWith("in"));
      expect(await typeAgain()).toEqual({ kind: "ok", value: "in" });
      expect(await reuseMails(user.id)).toEqual([]);
      const before = unit.queued;
      const firstAt = now();
      expect(await typeAgain()).toEqual({ kind: "used" });
      expect(await reuseMails(user.id)).toEqual([
        { kind: "notice.code-reused", recipient: user.otp_email, subject: expect.stringMatching(/\S/), text_body: expect.stringContaining(user.login_id), created_at: firstAt },
      ]);
      expect(unit.queued).toBe(before + 1);
      // Again at once and 59 minutes later: no second mail within the hour, nor a wake-up.
      expect(await typeAgain()).toEqual({ kind: "used" });
      unit.clock.advance(59 * MINUTE);
      expect(await typeAgain()).toEqual({ kind: "used" });
      expect(await reuseMails(user.id)).toHaveLength(1);
      expect(unit.queued).toBe(before + 1);
      // 61 minutes after the first: another.
      unit.clock.advance(2 * MINUTE);
      expect(await typeAgain()).toEqual({ kind: "used" });
      expect((await reuseMails(user.id)).map((m) => [m.kind, m.created_at])).toEqual([
        ["notice.code-reused", firstAt],
        ["notice.code-reused", firstAt + 61 * MINUTE],
      ]);
      expect(unit.queued).toBe(before + 2);
    });
  });

  describe("sendCode", () => {
    it("writes the code's mail already claimed when this process's sender takes mail now, and hands that row over after the commit", async () => {
      const user = await addUser(unit.deps);
      const flow = await createFlow(db(), deps.random, { userId: user.id, kind: "email-change", email: user.otp_email!, now: now() });
      const claimed: OutboxMessage[] = [];
      const before = unit.queued;
      const taking: Deps = { ...deps, mailLeaseUntil: (at) => at + 60_000, mailClaimed: (message) => claimed.push(message) };
      const sent = await sendInSession(taking, user, ctx(), async (_tx, send) => ({ issued: await send(flow) }));
      if (sent.issued.kind !== "sent") throw new Error(`no code: ${sent.issued.kind}`);
      const row = await db().selectFrom("outbox").selectAll().where("id", "=", sent.issued.outboxId).executeTakeFirstOrThrow();
      // As a drain's claim leaves a message: first attempt, leased; handed over as written, not by its id.
      expect(row).toMatchObject({ state: "sending", attempts: 1, lease_until: now() + 60_000, kind: "code.email-change", recipient: user.otp_email });
      expect(claimed).toEqual([row]);
      expect(unit.queued).toBe(before);
      // A code whose transaction rolls back hands nothing over.
      const flow2 = await createFlow(db(), deps.random, { userId: user.id, kind: "email-change", email: user.otp_email!, now: now() });
      await expect(
        sendInSession(taking, user, ctx(), async (_tx, send) => {
          await send(flow2);
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
      expect(claimed).toHaveLength(1);
      expect(await db().selectFrom("codes").select("id").where("flow_id", "=", flow2.id).execute()).toEqual([]);
    });

    it("audits a flow's first code as sent and a later one as regenerated, and wakes the sender after the commit", async () => {
      const user = await addUser(unit.deps);
      const flow = await createFlow(db(), deps.random, { userId: user.id, kind: "email-change", email: user.otp_email!, now: now() });
      const sentBefore = await metric(unit.deps.metrics.codesSent);
      const before = unit.queued;
      const c = ctx();
      const first = await sendInSession(deps, user, c, async (_tx, send, at) => ({ issued: await send(flow), at }));
      expect(first).toMatchObject({ issued: { kind: "sent" }, at: now() });
      expect(unit.queued).toBe(before + 1);
      // No sender here takes mail now (unit deps): the mail is written queued, and the sender woken.
      if (first.issued.kind === "sent") expect(first.issued.claimed).toBeNull();
      expect(await metric(unit.deps.metrics.codesSent)).toBe(sentBefore + 1);
      // Within FAMOS_OTP_RESEND_WAIT: no code, no audit, no wake-up.
      const waiting = await sendInSession(deps, user, c, async (_tx, send) => ({ issued: await send(flow, "code.regenerated") }));
      expect(waiting.issued.kind).toBe("wait");
      expect(unit.queued).toBe(before + 1);
      expect(await metric(unit.deps.metrics.codesSent)).toBe(sentBefore + 1);
      unit.clock.advance(30_000);
      await sendInSession(deps, user, c, async (_tx, send) => ({ issued: await send(flow, "code.regenerated") }));
      expect(unit.queued).toBe(before + 2);
      const lines = await audits(user.login_id);
      expect(lines.map((a) => [a.event, a.actor, a.ip, a.user_agent, JSON.parse(a.detail)])).toEqual([
        ["code.sent", user.login_id, c.ip, "factor-test", { purpose: "email-change" }],
        ["code.regenerated", user.login_id, c.ip, "factor-test", { purpose: "email-change" }],
      ]);
    });

    it("sends nothing when the work fails: the transaction is undone and nobody is woken", async () => {
      const user = await addUser(unit.deps);
      const flow = await createFlow(db(), deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
      const before = unit.queued;
      await expect(
        sendInSession(deps, user, ctx(), async (_tx, send) => {
          await send(flow);
          throw new Error("later step failed");
        }),
      ).rejects.toThrow("later step failed");
      expect(unit.queued).toBe(before);
      expect(await db().selectFrom("codes").select("id").where("flow_id", "=", flow.id).execute()).toEqual([]);
      expect(await audits(user.login_id)).toEqual([]);
    });
  });
});
