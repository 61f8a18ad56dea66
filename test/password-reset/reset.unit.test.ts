import { loginCounterKey, testLoginDigest } from "../support/login-counter.ts";
import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { issueCode, verifyCode } from "../../src/otp/codes.ts";
import { createFlow, findFlow } from "../../src/otp/flows.ts";
import { completePasswordReset, type ResetState } from "../../src/password-reset/reset.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { verifyPassword } from "../../src/password/hash.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { attemptFailed, reserveAttempt } from "../../src/regulation/throttle.ts";
import { createSession } from "../../src/session/sessions.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const NEW = "reset by myself ok";
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/**
 * The forgotten-password self-reset (FAMOS_PASSWORD_RESET=self, issue 11) at its home,
 * src/password-reset/reset.ts: step 1 answers alike for every login ID and mails only a confirmed
 * address; step 2 takes the sign-in's code rules (single use, counted, locked) and then sets the
 * password and cuts the account's old access. Over in-memory SQLite and a fixed clock.
 */
describe("password self-reset (unit tier)", () => {
  const unit = useUnitDeps();
  let n = 0;
  const ctx = (): RequestContext => ({ ip: `203.0.113.${++n % 250}`, userAgent: "reset-test" });
  const db = () => unit.db;
  const now = () => unit.now();
  const metric = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) => (await m.get()).values.reduce((s, v) => s + v.value, 0);
  const counter = (key: string) => db().selectFrom("throttles").select(["failures", "locked_until"]).where("key", "=", key).executeTakeFirst();
  const flowsOf = (userId: string) => db().selectFrom("flows").selectAll().where("user_id", "=", userId).execute();
  const mailsOf = (userId: string) => db().selectFrom("outbox").select(["kind", "recipient"]).where("user_id", "=", userId).orderBy("created_at").execute();
  const passwordIs = async (userId: string, password: string) => (await verifyPassword((await findUserById(db(), userId))!.password_hash, password)).ok;
  const form = (code: string, password = NEW) => ({ code, newPassword: password, confirmNewPassword: password });

  /** Step 1 for a fresh user: the state and the code mailed. */
  async function started(input: Parameters<typeof addUser>[1] = {}) {
    const user = await addUser(unit.deps, input);
    const state = await startPasswordReset(unit.deps, user.login_id, ctx());
    const code = await outboxMailbox(db()).code(user.otp_email!, 0);
    return { user, state, code };
  }

  describe("step 1: startPasswordReset", () => {
    it("mails a code for a password-reset flow to the confirmed address, audits it, wakes the sender; the state names that flow and the login key", async () => {
      const user = await addUser(unit.deps, { loginId: "Reset.Start", email: "start@dealer.example" });
      const [queued, sent] = [unit.queued, await metric(unit.deps.metrics.codesSent)];
      const c = ctx();
      const state = await startPasswordReset(unit.deps, "  RESET.start ", c);
      const flows = await flowsOf(user.id);
      expect(flows).toHaveLength(1);
      expect(flows[0]).toMatchObject({ id: state.flowId, kind: "password-reset", email: "start@dealer.example", finished_at: null, codes_sent: 1 });
      expect(state).toEqual({ flowId: flows[0]!.id, loginKey: "reset.start" });
      expect(await mailsOf(user.id)).toEqual([{ kind: "code.password-reset", recipient: "start@dealer.example" }]);
      expect(await outboxMailbox(db()).code("start@dealer.example", 0)).toMatch(/^\d{6}$/);
      expect(unit.queued).toBe(queued + 1);
      expect(await metric(unit.deps.metrics.codesSent)).toBe(sent + 1);
      const audit = await queryAudit(db(), { subject: "Reset.Start", event: "password.reset-requested" });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: "Reset.Start", ip: c.ip, userAgent: "reset-test", detail: { code: "sent" } });
    });

    it("answers an unknown, empty, disabled, expired-temporary, paused or address-less login ID with a state of the same shape, and writes, mails and wakes nothing", async () => {
      const t = now();
      const disabled = await addUser(unit.deps);
      await db().updateTable("users").set({ disabled_at: t }).where("id", "=", disabled.id).execute();
      const expired = await addUser(unit.deps);
      await db().updateTable("users").set({ password_temporary_until: t }).where("id", "=", expired.id).execute();
      const noAddress = await addUser(unit.deps, { email: null });
      const paused = await addUser(unit.deps);
      const c = ctx();
      for (let i = 0; i < unit.deps.config.lock.after; i += 1) {
        const r = await reserveAttempt(db(), "code", { loginKey: testLoginDigest(paused.login_key), ip: c.ip }, t, unit.deps.config);
        if (r.ok) await attemptFailed(db(), r, t);
      }
      expect(await counter(loginCounterKey("code", paused.login_key))).toMatchObject({ locked_until: expect.any(Number) });
      const known = await startPasswordReset(unit.deps, (await addUser(unit.deps)).login_id, ctx());
      const [queued, sent, outbox] = [unit.queued, await metric(unit.deps.metrics.codesSent), (await db().selectFrom("outbox").select("id").execute()).length];
      const flowsBefore = (await db().selectFrom("flows").select("id").execute()).length;

      for (const [typed, userId] of [
        ["Nobody.Here", null],
        ["   ", null],
        [disabled.login_id, disabled.id],
        [expired.login_id, expired.id],
        [noAddress.login_id, noAddress.id],
        [paused.login_id, paused.id],
      ] as const) {
        const state = await startPasswordReset(unit.deps, typed, ctx());
        expect(Object.keys(state).sort(), typed).toEqual(Object.keys(known).sort());
        expect(state.flowId).toMatch(new RegExp(`^[A-Za-z0-9_-]{${known.flowId.length}}$`));
        expect(state.loginKey).toBe(typed.trim().toLowerCase());
        expect(await findFlow(db(), state.flowId)).toBeUndefined();
        if (userId) expect(await flowsOf(userId), typed).toEqual([]);
      }
      expect((await db().selectFrom("flows").select("id").execute()).length).toBe(flowsBefore);
      expect((await db().selectFrom("outbox").select("id").execute()).length).toBe(outbox);
      expect(unit.queued).toBe(queued);
      expect(await metric(unit.deps.metrics.codesSent)).toBe(sent);
      for (const user of [disabled, expired, noAddress, paused]) expect(await queryAudit(db(), { subject: user.login_id, event: "password.reset-requested" })).toEqual([]);
    });

    it("cuts an over-long login ID to 128 characters, as the sign-in does", async () => {
      const state = await startPasswordReset(unit.deps, `  ${"X".repeat(300)}  `, ctx());
      expect(state.loginKey).toBe("x".repeat(128));
    });

    it("a temporary password not yet run out does not bar the reset", async () => {
      const user = await addUser(unit.deps);
      await db().updateTable("users").set({ password_temporary_until: now() + 1 }).where("id", "=", user.id).execute();
      const state = await startPasswordReset(unit.deps, user.login_id, ctx());
      expect((await findFlow(db(), state.flowId))?.user_id).toBe(user.id);
    });
  });

  describe("step 2: completePasswordReset", () => {
    it("the right code sets the password, clears a temporary one, finishes the flow, ends every session and pending code, clears the count, tells the address, audits", async () => {
      const { user, state, code } = await started({ email: "done@dealer.example" });
      await db().updateTable("users").set({ password_temporary_until: now() + 60_000 }).where("id", "=", user.id).execute();
      const session = await createSession(db(), unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "old" });
      const signin = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
      await db().transaction().execute((tx) => issueCode(unit.deps, tx, signin, user.login_id, now(), ctx(), user));
      const c = ctx();
      expect(await completePasswordReset(unit.deps, state, form(otherThan(code)), c)).toEqual({ kind: "code-refused" });
      expect(await counter(loginCounterKey("reset", user.login_key))).toMatchObject({ failures: 1 });
      const [queued, confirmed] = [unit.queued, await metric(unit.deps.metrics.codesConfirmed)];

      expect(await completePasswordReset(unit.deps, state, form(` ${code.slice(0, 3)}-${code.slice(3)} `), c)).toEqual({ kind: "reset" });
      expect(await passwordIs(user.id, NEW)).toBe(true);
      expect(await passwordIs(user.id, user.password)).toBe(false);
      expect((await findUserById(db(), user.id))!.password_temporary_until).toBeNull();
      expect((await findFlow(db(), state.flowId))!.finished_at).toBe(now());
      expect((await findFlow(db(), signin.id))!.finished_at).toBe(now());
      const live = await db().selectFrom("codes").select("id").where("user_id", "=", user.id).where("consumed_at", "is", null).where("voided_at", "is", null).execute();
      expect(live).toEqual([]);
      expect((await db().selectFrom("sessions").select(["ended_at", "end_reason"]).where("id", "=", session.session.id).executeTakeFirstOrThrow())).toEqual({ ended_at: now(), end_reason: "password-reset" });
      expect(await counter(loginCounterKey("reset", user.login_key))).toBeUndefined();
      expect((await mailsOf(user.id)).filter((m) => m.kind === "notice.password-reset")).toEqual([{ kind: "notice.password-reset", recipient: "done@dealer.example" }]);
      const audit = await queryAudit(db(), { subject: user.login_id, event: "password.reset" });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: user.login_id, ip: c.ip, userAgent: "reset-test", detail: { sessionsEnded: 1 } });
      expect(unit.queued).toBe(queued + 1);
      expect(await metric(unit.deps.metrics.codesConfirmed)).toBe(confirmed + 1);

      // Single use: the same state and code again reset nothing. They count nothing either: no code of the
      // flow is live, so nothing is left to guess, and a double click arriving late, or the loser of two
      // instances a moment behind, is not a wrong guess (reset-races.unit).
      expect(await completePasswordReset(unit.deps, state, form(code, "yet another new one"), c)).toEqual({ kind: "code-refused" });
      expect(await passwordIs(user.id, NEW)).toBe(true);
      expect((await counter(loginCounterKey("reset", user.login_key)))?.failures ?? 0).toBe(0);
    });

    it("checks the new password first (twice the same, the policy): invalid, nothing counted, the code still good", async () => {
      const { user, state, code } = await started({ fullName: "Margarethe Vandersloot" });
      const c = ctx();
      expect(await completePasswordReset(unit.deps, state, { code, newPassword: NEW, confirmNewPassword: `${NEW}!` }, c)).toMatchObject({ kind: "invalid", message: expect.stringContaining("do not match") });
      expect(await completePasswordReset(unit.deps, state, form(code, "too short"), c)).toMatchObject({ kind: "invalid" });
      expect(await counter(loginCounterKey("reset", user.login_key))).toBeUndefined();
      expect(await completePasswordReset(unit.deps, state, form(code), c)).toEqual({ kind: "reset" });
    });

    it("no enumeration by the name rule: a password equal to the account's own name, with a wrong code, is answered as for an unknown login ID; only the right code hears that it is refused", async () => {
      const { user, state, code } = await started({ fullName: "Margarethe Vandersloot" });
      const unknown = await startPasswordReset(unit.deps, "nobody.vandersloot", ctx());
      const named = form(otherThan(code), "Margarethe Vandersloot");
      const a = await completePasswordReset(unit.deps, state, named, ctx());
      const b = await completePasswordReset(unit.deps, unknown, named, ctx());
      expect(a).toEqual({ kind: "code-refused" });
      expect(b).toEqual(a);
      expect(await counter(loginCounterKey("reset", user.login_key))).toMatchObject({ failures: 1 });
      // The right code with the name: refused as invalid, the try given back, the code still good.
      expect(await completePasswordReset(unit.deps, state, form(code, "margarethe vandersloot"), ctx())).toMatchObject({ kind: "invalid", message: expect.stringContaining("your name") });
      expect(await counter(loginCounterKey("reset", user.login_key))).toMatchObject({ failures: 1 });
      expect(await passwordIs(user.id, user.password)).toBe(true);
      expect(await completePasswordReset(unit.deps, state, form(code), ctx())).toEqual({ kind: "reset" });
    });

    it("a wrong or malformed code: refused, counted toward the reset's own lock (never the sign-in's), audited and metered, the password unchanged", async () => {
      const { user, state, code } = await started();
      const c = ctx();
      const failed = await metric(unit.deps.metrics.codesFailed);
      expect(await completePasswordReset(unit.deps, state, form(otherThan(code)), c)).toEqual({ kind: "code-refused" });
      expect(await completePasswordReset(unit.deps, state, form("12ab"), c)).toEqual({ kind: "code-refused" });
      expect(await counter(loginCounterKey("reset", user.login_key))).toMatchObject({ failures: 2 });
      expect(await metric(unit.deps.metrics.codesFailed)).toBe(failed + 2);
      const audit = await queryAudit(db(), { subject: user.login_key, event: "code.failed" });
      expect(audit.map((a) => a.detail).reverse()).toEqual([
        { purpose: "password-reset", result: "wrong" },
        { purpose: "password-reset", result: "no-code" },
      ]);
      expect(audit[0]).toMatchObject({ actor: user.login_key, ip: c.ip, userAgent: "reset-test" });
      expect(await passwordIs(user.id, user.password)).toBe(true);
    });

    it("a code used up by a request racing with this one: refused, its count given back, nothing audited as a failure", async () => {
      const { user, state, code } = await started();
      expect(await verifyCode(unit.deps, state.flowId, code, now())).toMatchObject({ kind: "ok" });
      const failed = await metric(unit.deps.metrics.codesFailed);
      expect(await completePasswordReset(unit.deps, state, form(code), ctx())).toEqual({ kind: "code-refused" });
      expect(await counter(loginCounterKey("reset", user.login_key))).toMatchObject({ failures: 0 });
      expect(await queryAudit(db(), { subject: user.login_key, event: "code.failed" })).toEqual([]);
      expect(await metric(unit.deps.metrics.codesFailed)).toBe(failed);
      expect(await passwordIs(user.id, user.password)).toBe(true);
    });

    it("two requests racing with the right code: one resets, the other is refused with its try given back", async () => {
      const { user, state, code } = await started();
      const outcomes = await Promise.all([completePasswordReset(unit.deps, state, form(code), ctx()), completePasswordReset(unit.deps, state, form(code, "the other new one"), ctx())]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(["code-refused", "reset"]);
      expect(await passwordIs(user.id, outcomes[0]!.kind === "reset" ? NEW : "the other new one")).toBe(true);
      expect(await counter(loginCounterKey("reset", user.login_key))).toBeUndefined();
      expect(await queryAudit(db(), { subject: user.login_key, event: "code.failed" })).toEqual([]);
    });

    it("refuses the right code with a state that is not this user's reset: another login key, a sign-in flow, a finished or unknown flow, a user disabled meanwhile", async () => {
      const cases: Array<[string, () => Promise<{ userId: string; password: string; state: ResetState; code: string; counted: string }>]> = [
        ["another login key", async () => {
          const { user, state, code } = await started();
          return { userId: user.id, password: user.password, state: { ...state, loginKey: "someone.else" }, code, counted: "someone.else" };
        }],
        ["a sign-in flow", async () => {
          const user = await addUser(unit.deps);
          const flow = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
          await db().transaction().execute((tx) => issueCode(unit.deps, tx, flow, user.login_id, now(), ctx(), user));
          const code = await outboxMailbox(db()).code(user.otp_email!, 0);
          return { userId: user.id, password: user.password, state: { flowId: flow.id, loginKey: user.login_key }, code, counted: user.login_key };
        }],
        ["a finished flow", async () => {
          const { user, state, code } = await started();
          await db().updateTable("flows").set({ finished_at: now() }).where("id", "=", state.flowId).execute();
          return { userId: user.id, password: user.password, state, code, counted: user.login_key };
        }],
        ["an unknown flow", async () => {
          const { user, state, code } = await started();
          return { userId: user.id, password: user.password, state: { ...state, flowId: "no-such-flow" }, code, counted: user.login_key };
        }],
        ["a user disabled meanwhile", async () => {
          const { user, state, code } = await started();
          await db().updateTable("users").set({ disabled_at: now() }).where("id", "=", user.id).execute();
          return { userId: user.id, password: user.password, state, code, counted: user.login_key };
        }],
      ];
      for (const [name, make] of cases) {
        const { userId, password, state, code, counted } = await make();
        expect(await completePasswordReset(unit.deps, state, form(code), ctx()), name).toEqual({ kind: "code-refused" });
        expect(await passwordIs(userId, password), name).toBe(true);
        expect(await counter(loginCounterKey("reset", counted)), name).toMatchObject({ failures: 1 });
      }
    });

    it("locks after FAMOS_LOCK_AFTER wrong codes, mails the holder once, then refuses even the right code unchecked", async () => {
      const { user, state, code } = await started();
      const after = unit.deps.config.lock.after;
      for (let i = 0; i < after; i += 1) expect(await completePasswordReset(unit.deps, state, form(otherThan(code)), ctx())).toEqual({ kind: "code-refused" });
      const lock = await counter(loginCounterKey("reset", user.login_key));
      expect(lock!.locked_until).toBeGreaterThan(now());
      expect((await mailsOf(user.id)).filter((m) => m.kind === "lock")).toEqual([{ kind: "lock", recipient: user.otp_email }]);
      expect(await completePasswordReset(unit.deps, state, form(code), ctx())).toEqual({ kind: "locked", until: lock!.locked_until });
      expect(await passwordIs(user.id, user.password)).toBe(true);
      expect((await mailsOf(user.id)).filter((m) => m.kind === "lock")).toHaveLength(1);
    });

    it("an unknown login ID's state is answered as a known one's wrong code, and counted alike", async () => {
      const { user, state, code } = await started();
      const unknown = await startPasswordReset(unit.deps, "never.existed", ctx());
      const a = await completePasswordReset(unit.deps, state, form(otherThan(code)), ctx());
      const b = await completePasswordReset(unit.deps, unknown, form(otherThan(code)), ctx());
      expect(b).toEqual(a);
      expect(await counter(loginCounterKey("reset", user.login_key))).toMatchObject({ failures: 1 });
      expect(await counter(loginCounterKey("reset", "never.existed"))).toMatchObject({ failures: 1 });
    });
  });
});
