import { loginCounterKey } from "../support/login-counter.ts";
import { describe, expect, it } from "vitest";
import { findFlow } from "../../src/otp/flows.ts";
import { maskEmail } from "../../src/platform/format.ts";
import { verifyPassword } from "../../src/password/hash.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { cancelEmailChange, confirmEmailChange, pendingEmailChange, resendEmailChangeCode, startEmailChange } from "../../src/profile/email-change.ts";
import { changePassword, checkChosenPassword } from "../../src/profile/password-change.ts";
import { codeConfirmedRecently, CONSOLE_FRESHNESS, CONSOLE_RECENT_CODE_MS, provePassword, RECENT_CODE_MS, RECENT_CODE_WORDS, requireFreshProof } from "../../src/profile/reauthenticate.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;
const NEW_PASSWORD = "purple elephant drives slowly";
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/** Profile's sensitive changes (SPEC item 6; ASVS 3.7.1, 3.3.3): the proof they need, the password, the OTP email. */
describe("Profile: re-authentication, password change, email change (unit tier)", () => {
  const unit = useUnitDeps();
  const now = () => unit.clock.now();
  let n = 0;
  const ctx = (): RequestContext => ({ ip: `198.51.100.${++n % 250}`, userAgent: "profile-unit" });
  const reload = async (id: string): Promise<User> => (await findUserById(unit.deps.db, id))!;
  const sessionRow = (id: string) => unit.deps.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const audits = (subject: string, event: string) =>
    unit.deps.db.selectFrom("audit").select(["actor", "subject", "ip", "user_agent", "detail", "time"]).where("subject", "=", subject).where("event", "=", event).orderBy("id").execute();
  const mails = (userId: string, kind: string) => unit.deps.db.selectFrom("outbox").select(["recipient", "text_body"]).where("user_id", "=", userId).where("kind", "=", kind).execute();
  const failures = async (loginId: string) =>
    (await unit.deps.db.selectFrom("throttles").select("failures").where("key", "=", loginCounterKey("password", loginId)).executeTakeFirst())?.failures ?? 0;
  async function session(user: User, verifiedAt: number | null = null): Promise<Session> {
    const made = await createSession(unit.deps.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    if (verifiedAt === null) return made.session;
    await unit.deps.db.updateTable("sessions").set({ verified_at: verifiedAt }).where("id", "=", made.session.id).execute();
    return { ...made.session, verified_at: verifiedAt };
  }
  async function lockPassword(user: User) {
    for (let i = 0; i < 5; i++) await provePassword(unit.deps, user, "wrong password here", ctx(), "password-change");
  }

  describe("reauthenticate", () => {
    it("counts a code as recent for 15 minutes after it was confirmed, not at 15 minutes", async () => {
      expect(RECENT_CODE_MS).toBe(15 * MINUTE);
      expect(RECENT_CODE_WORDS).toBe("15 minutes");
      const user = await addUser(unit.deps);
      const s = await session(user);
      expect(codeConfirmedRecently(s, now())).toBe(false);
      expect(codeConfirmedRecently({ ...s, verified_at: now() }, now())).toBe(true);
      expect(codeConfirmedRecently({ ...s, verified_at: now() - RECENT_CODE_MS + 1 }, now())).toBe(true);
      expect(codeConfirmedRecently({ ...s, verified_at: now() - RECENT_CODE_MS }, now())).toBe(false);
    });

    it("provePassword: ok, wrong (the one that starts the pause too), then locked with the pause; counted as the purpose", async () => {
      const user = await addUser(unit.deps);
      expect(await provePassword(unit.deps, user, user.password, ctx(), "email-change")).toEqual({ kind: "ok" });
      for (let i = 0; i < 5; i++) expect(await provePassword(unit.deps, user, "wrong password here", ctx(), "password-change")).toEqual({ kind: "wrong" });
      expect(await provePassword(unit.deps, user, user.password, ctx(), "password-change")).toEqual({ kind: "locked", scope: "login-id", until: now() + MINUTE });
      const failed = await audits(user.login_id, "password.failed");
      expect(JSON.parse(failed[0]!.detail)).toMatchObject({ during: "password-change" });
      expect(JSON.parse((await audits(user.login_id, "password.ok"))[0]!.detail)).toMatchObject({ during: "email-change" });
    });

    it("requireFreshProof: a recent code is enough; else the password, needed, wrong, right or locked", async () => {
      const user = await addUser(unit.deps);
      const fresh = await session(user, now() - RECENT_CODE_MS + 1);
      expect(await requireFreshProof(unit.deps, user, fresh, null, ctx(), "email-change")).toEqual({ kind: "ok" });
      expect(await requireFreshProof(unit.deps, user, fresh, "wrong password here", ctx(), "email-change")).toEqual({ kind: "ok" });
      expect(await failures(user.login_id)).toBe(0);
      const stale = await session(user, now() - RECENT_CODE_MS);
      expect(await requireFreshProof(unit.deps, user, stale, null, ctx(), "email-change")).toEqual({ kind: "password-needed" });
      expect(await requireFreshProof(unit.deps, user, stale, "", ctx(), "email-change")).toEqual({ kind: "password-needed" });
      expect(await failures(user.login_id)).toBe(0);
      expect(await requireFreshProof(unit.deps, user, stale, "wrong password here", ctx(), "email-change")).toEqual({ kind: "password-wrong" });
      expect(await failures(user.login_id)).toBe(1);
      expect(await requireFreshProof(unit.deps, user, stale, user.password, ctx(), "email-change")).toEqual({ kind: "ok", by: "password" });
      // The console's window (an hour) is the same rule with its own parameter: stale for Profile, fresh there.
      expect(await requireFreshProof(unit.deps, user, stale, null, ctx(), "console-step-up", CONSOLE_FRESHNESS)).toEqual({ kind: "ok" });
      const staleForConsole = await session(user, now() - CONSOLE_RECENT_CODE_MS);
      expect(await requireFreshProof(unit.deps, user, staleForConsole, null, ctx(), "console-step-up", CONSOLE_FRESHNESS)).toEqual({ kind: "password-needed" });
      await lockPassword(user);
      expect(await requireFreshProof(unit.deps, user, stale, user.password, ctx(), "email-change")).toEqual({ kind: "locked", scope: "login-id", until: now() + MINUTE });
    });
  });

  describe("password change", () => {
    it("checkChosenPassword: the two must match, then the policy with the login ID and the name", () => {
      const user = { login_id: "jane.smithson.dealer", full_name: "Jane Mary Smithson" };
      expect(checkChosenPassword(user, NEW_PASSWORD, NEW_PASSWORD)).toBeNull();
      expect(checkChosenPassword(user, NEW_PASSWORD, `${NEW_PASSWORD}x`)).toEqual({
        kind: "invalid",
        field: "confirmNewPassword",
        message: "The two new passwords do not match. Type the same password in both fields.",
      });
      for (const bad of ["short", "jane.smithson.dealer", "Jane Mary Smithson"]) expect(checkChosenPassword(user, bad, bad)).toMatchObject({ kind: "invalid", field: "newPassword", message: expect.any(String) });
      expect(checkChosenPassword(user, "Jane Mary Smithson", "Jane Mary Smithson")?.message).not.toBe(checkChosenPassword(user, "short", "short")?.message);
    });

    it("refuses an invalid or unchanged new password before the current one is tried, at no cost against the lock", async () => {
      const user = await addUser(unit.deps);
      const s = await session(user);
      const change = (currentPassword: string, newPassword: string, confirmNewPassword = newPassword) => changePassword(unit.deps, user, s, { currentPassword, newPassword, confirmNewPassword }, ctx());
      expect(await change("wrong password here", NEW_PASSWORD, "something else")).toMatchObject({ kind: "invalid", field: "confirmNewPassword" });
      expect(await change("wrong password here", user.login_id)).toMatchObject({ kind: "invalid", field: "newPassword" });
      expect(await change(user.password, user.password)).toEqual({
        kind: "invalid",
        field: "newPassword",
        message: "The new password is the same as the current one. Choose a different password.",
      });
      expect(await failures(user.login_id)).toBe(0);
      expect(await change("wrong password here", NEW_PASSWORD)).toEqual({ kind: "current-wrong" });
      expect(await failures(user.login_id)).toBe(1);
      await lockPassword(user);
      expect(await change(user.password, NEW_PASSWORD)).toEqual({ kind: "locked", scope: "login-id", until: now() + MINUTE });
      expect(await verifyPassword((await reload(user.id)).password_hash!, user.password)).toMatchObject({ ok: true });
      expect(await mails(user.id, "notice.password-changed")).toEqual([]);
    });

    it("changes it: the new hash, no temporary flag, the other sessions ended, this one a new token, the OTP email told, audited", async () => {
      const user = await addUser(unit.deps);
      const bystander = await addUser(unit.deps);
      const theirs = await session(bystander);
      await unit.deps.db.updateTable("users").set({ password_temporary_until: now() + 10 * MINUTE }).where("id", "=", user.id).execute();
      const s = await session(user);
      const other = await session(user);
      const queued = unit.queued;
      unit.clock.advance(MINUTE);
      const outcome = await changePassword(unit.deps, user, s, { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD }, ctx());
      expect(outcome).toMatchObject({ kind: "changed", token: expect.any(String), session: { id: s.id, stage: "full", last_seen_at: now() } });
      if (outcome.kind !== "changed") throw new Error("not changed");
      expect(outcome.session.token_hash).not.toBe(s.token_hash);
      const after = await reload(user.id);
      expect(await verifyPassword(after.password_hash!, NEW_PASSWORD)).toMatchObject({ ok: true });
      expect(after.password_temporary_until).toBeNull();
      expect(await sessionRow(s.id)).toMatchObject({ ended_at: null, token_hash: outcome.session.token_hash });
      expect(await sessionRow(other.id)).toMatchObject({ ended_at: now(), end_reason: "password-changed" });
      expect(await sessionRow(theirs.id)).toMatchObject({ ended_at: null });
      const [mail] = await mails(user.id, "notice.password-changed");
      expect(mail?.recipient).toBe(user.otp_email);
      expect(mail?.text_body).toContain(user.login_id);
      expect(unit.queued).toBe(queued + 1);
      const [event] = await audits(user.login_id, "password.changed");
      expect(event).toMatchObject({ actor: user.login_id, ip: expect.stringMatching(/^198\.51\.100\./), user_agent: "profile-unit", time: now() });
      expect(JSON.parse(event!.detail)).toEqual({ sessionsEnded: 1, devicesForgotten: 0 });
    });

    it("changes it without mail for an account without an OTP email", async () => {
      const user = await addUser(unit.deps, { email: null });
      const s = await session(user);
      expect(await changePassword(unit.deps, user, s, { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD }, ctx())).toMatchObject({ kind: "changed" });
      expect(await verifyPassword((await reload(user.id)).password_hash!, NEW_PASSWORD)).toMatchObject({ ok: true });
      expect(await unit.deps.db.selectFrom("outbox").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
    });

    it("ASVS 3.3.1: a session ended while its change was on its way (from another browser, by support) signs out and changes nothing", async () => {
      const user = await addUser(unit.deps);
      const s = await session(user);
      const other = await session(user);
      await unit.deps.db.updateTable("sessions").set({ ended_at: now(), end_reason: "ended-by-user" }).where("id", "=", s.id).execute();
      expect(await changePassword(unit.deps, user, s, { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD }, ctx())).toEqual({ kind: "signed-out" });
      expect(await verifyPassword((await reload(user.id)).password_hash!, user.password)).toMatchObject({ ok: true });
      expect(await sessionRow(other.id)).toMatchObject({ ended_at: null });
      expect(await mails(user.id, "notice.password-changed")).toEqual([]);
      expect(await audits(user.login_id, "password.changed")).toEqual([]);
    });
  });

  describe("email change", () => {
    const entry = (email: string) => ({ entry: { email, confirmEmail: email, ownMailbox: false } });
    const codes = (flowId: string) => unit.deps.db.selectFrom("codes").select(["voided_at", "void_reason", "consumed_at"]).where("flow_id", "=", flowId).execute();

    it("refuses a bad address, the same address, and asks for the password without a recent code, before any code is sent", async () => {
      const user = await addUser(unit.deps);
      const stale = await session(user);
      expect(await startEmailChange(unit.deps, user, stale, { ...entry("not an address"), password: user.password }, ctx())).toMatchObject({ kind: "invalid" });
      expect(await startEmailChange(unit.deps, user, stale, { ...entry(user.otp_email!.toUpperCase()), password: user.password }, ctx())).toEqual({
        kind: "invalid",
        problem: "same-address",
        message: "That is already your OTP email. Enter the new address you want your codes sent to.",
      });
      expect(await startEmailChange(unit.deps, user, stale, { ...entry("someone@gmial.com"), password: user.password }, ctx())).toMatchObject({ kind: "invalid", problem: "did-you-mean", suggestion: "someone@gmail.com" });
      expect(await startEmailChange(unit.deps, user, stale, { ...entry("new.one@dealer.example"), password: null }, ctx())).toEqual({ kind: "password-needed" });
      expect(await startEmailChange(unit.deps, user, stale, { ...entry("new.one@dealer.example"), password: "wrong password here" }, ctx())).toEqual({ kind: "password-wrong" });
      await lockPassword(user);
      expect(await startEmailChange(unit.deps, user, stale, { ...entry("new.one@dealer.example"), password: user.password }, ctx())).toMatchObject({ kind: "locked", scope: "login-id" });
      expect((await reload(user.id)).pending_email).toBeNull();
      expect(await unit.deps.db.selectFrom("flows").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
    });

    it("lets an account without an OTP email start one", async () => {
      const user = await addUser(unit.deps, { email: null });
      const fresh = await session(user, now());
      expect(await startEmailChange(unit.deps, user, fresh, { ...entry("first.one@dealer.example"), password: null }, ctx())).toMatchObject({ kind: "code-sent" });
    });

    it("sends a code to the new address, bound to this session; a second request voids the first; confirms with the code", async () => {
      const user = await addUser(unit.deps);
      const bystander = await addUser(unit.deps);
      const theirs = await session(bystander);
      let s = await session(user, now());
      const other = await session(user);
      const first = await startEmailChange(unit.deps, user, s, { ...entry("first.try@dealer.example"), password: null }, ctx());
      expect(first).toMatchObject({ kind: "code-sent", issued: { kind: "sent" } });
      const row1 = await sessionRow(s.id);
      expect(row1.stage).toBe("full");
      const flow1 = (await findFlow(unit.deps.db, row1.flow_id!))!;
      expect(flow1).toMatchObject({ kind: "email-change", user_id: user.id, email: "first.try@dealer.example", finished_at: null });
      expect((await reload(user.id)).pending_email).toBe("first.try@dealer.example");
      const [started] = await audits(user.login_id, "email.change-started");
      expect(started).toMatchObject({ actor: user.login_id, user_agent: "profile-unit" });
      expect(JSON.parse(started!.detail)).toEqual({ to: "first.try@dealer.example", sharedMailbox: false });
      const firstCode = await outboxMailbox(unit.deps.db).code("first.try@dealer.example", 0);

      s = { ...s, flow_id: flow1.id };
      unit.clock.advance(MINUTE);
      expect(await startEmailChange(unit.deps, user, s, { ...entry("New.One@dealer.example"), password: user.password }, ctx())).toMatchObject({ kind: "code-sent" });
      expect(await findFlow(unit.deps.db, flow1.id)).toMatchObject({ finished_at: now() });
      expect(await codes(flow1.id)).toEqual([expect.objectContaining({ voided_at: now(), void_reason: "replaced" })]);
      const row2 = await sessionRow(s.id);
      const flow2 = (await findFlow(unit.deps.db, row2.flow_id!))!;
      expect(flow2.email).toBe("New.One@dealer.example");
      s = { ...s, flow_id: flow2.id };
      expect(await pendingEmailChange(unit.deps, user, s)).toMatchObject({ id: flow2.id });
      expect(await confirmEmailChange(unit.deps, user, s, firstCode, ctx())).toMatchObject({ kind: "wrong" });
      expect((await reload(user.id)).otp_email).toBe(user.otp_email);

      // A sign-in code in flight to the old address stops working with the switch.
      const signin = await session(user);
      const code = await outboxMailbox(unit.deps.db).code("New.One@dealer.example", 0);
      const queued = unit.queued;
      unit.clock.advance(MINUTE);
      const confirmed = await confirmEmailChange(unit.deps, user, s, code, ctx());
      // A new token; the code of an address just chosen renews no re-authentication window (newFactorChange): verified_at stays the sign-in's.
      expect(s.verified_at).toBe(now() - 2 * MINUTE);
      expect(confirmed).toMatchObject({ kind: "changed", email: "New.One@dealer.example", token: expect.any(String), session: { id: s.id, stage: "full", flow_id: null, verified_at: s.verified_at } });
      const after = await reload(user.id);
      expect(after.otp_email).toBe("New.One@dealer.example");
      expect(after.pending_email).toBeNull();
      expect(await sessionRow(s.id)).toMatchObject({ ended_at: null, flow_id: null, verified_at: s.verified_at });
      for (const ended of [other, signin]) expect(await sessionRow(ended.id)).toMatchObject({ ended_at: now(), end_reason: "email-changed" });
      expect(await sessionRow(theirs.id)).toMatchObject({ ended_at: null });
      const [told] = await mails(user.id, "notice.email-changed");
      expect(told?.recipient).toBe(user.otp_email);
      expect(told?.text_body).toContain(maskEmail("New.One@dealer.example"));
      expect(told?.text_body).toContain(user.login_id);
      expect(unit.queued).toBe(queued + 1);
      const [changed] = await audits(user.login_id, "email.changed");
      expect(JSON.parse(changed!.detail)).toEqual({ from: user.otp_email, to: "New.One@dealer.example", sessionsEnded: 2, devicesForgotten: 0 });
      expect(changed).toMatchObject({ actor: user.login_id, time: now() });
      expect(await pendingEmailChange(unit.deps, user, { ...s, flow_id: flow2.id })).toBeNull();
      // The same code again, from the session as it was read before (a double submit's twin): refused as
      // used, counting nothing, and in the trail as the code's reuse (ASVS 2.8.5).
      expect(await confirmEmailChange(unit.deps, user, { ...s, flow_id: flow2.id }, code, ctx())).toEqual({ kind: "used" });
      expect((await audits(user.login_id, "code.reused")).map((a) => JSON.parse(a.detail))).toEqual([{ purpose: "email-change" }]);
    });

    it("voids every live code of the user on the switch, and tells no one when there was no old address", async () => {
      const user = await addUser(unit.deps, { email: null });
      const s = await session(user, now());
      await startEmailChange(unit.deps, user, s, { ...entry("only.one@dealer.example"), password: null }, ctx());
      const flowId = (await sessionRow(s.id)).flow_id!;
      const code = await outboxMailbox(unit.deps.db).code("only.one@dealer.example", 0);
      // Another live code of this user (another flow) stops working too.
      const { createFlow } = await import("../../src/otp/flows.ts");
      const { issueCode } = await import("../../src/otp/codes.ts");
      const elsewhere = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: "only.one@dealer.example", now: now() });
      await issueCode(unit.deps, unit.deps.db, elsewhere, user.login_id, now());
      expect(await confirmEmailChange(unit.deps, user, { ...s, flow_id: flowId }, code, ctx())).toMatchObject({ kind: "changed" });
      expect(await codes(elsewhere.id)).toEqual([expect.objectContaining({ voided_at: now(), void_reason: "email-changed" })]);
      expect(await mails(user.id, "notice.email-changed")).toEqual([]);
      const [changed] = await audits(user.login_id, "email.changed");
      expect(JSON.parse(changed!.detail)).toMatchObject({ from: null, to: "only.one@dealer.example" });
    });

    it("tells the old address only when it is another address: the same one in other letters is not told", async () => {
      const user = await addUser(unit.deps, { email: "Case.Only@dealer.example" });
      const { createFlow } = await import("../../src/otp/flows.ts");
      const { issueCode } = await import("../../src/otp/codes.ts");
      const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "email-change", email: "case.only@DEALER.example", now: now() });
      await issueCode(unit.deps, unit.deps.db, flow, user.login_id, now());
      const s = { ...(await session(user)), flow_id: flow.id };
      await unit.deps.db.updateTable("sessions").set({ flow_id: flow.id }).where("id", "=", s.id).execute();
      const code = await outboxMailbox(unit.deps.db).code("case.only@DEALER.example", 0);
      expect(await confirmEmailChange(unit.deps, user, s, code, ctx())).toMatchObject({ kind: "changed", email: "case.only@DEALER.example" });
      // The session the password alone opened has now verified a second factor: a two-factor session (newFactorChange).
      expect(await sessionRow(s.id)).toMatchObject({ verified_at: now() });
      expect((await reload(user.id)).otp_email).toBe("case.only@DEALER.example");
      expect(await mails(user.id, "notice.email-changed")).toEqual([]);
    });

    it("pendingEmailChange: this session's open email change of this user only", async () => {
      const user = await addUser(unit.deps);
      const other = await addUser(unit.deps);
      const s = await session(user, now());
      expect(await pendingEmailChange(unit.deps, user, s)).toBeNull();
      await startEmailChange(unit.deps, user, s, { ...entry("pending.one@dealer.example"), password: null }, ctx());
      const flowId = (await sessionRow(s.id)).flow_id!;
      expect(await pendingEmailChange(unit.deps, user, { ...s, flow_id: flowId })).toMatchObject({ id: flowId });
      expect(await pendingEmailChange(unit.deps, other, { ...s, flow_id: flowId })).toBeNull();
      expect(await pendingEmailChange(unit.deps, user, { ...s, flow_id: "no-such-flow" })).toBeNull();
      const { createFlow } = await import("../../src/otp/flows.ts");
      const signin = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
      expect(await pendingEmailChange(unit.deps, user, { ...s, flow_id: signin.id })).toBeNull();
      expect(await resendEmailChangeCode(unit.deps, user, { ...s, flow_id: signin.id }, ctx())).toEqual({ kind: "no-flow" });
      expect(await resendEmailChangeCode(unit.deps, user, s, ctx())).toEqual({ kind: "no-flow" });
      await cancelEmailChange(unit.deps, user, { ...s, flow_id: signin.id }, ctx());
      expect(await findFlow(unit.deps.db, signin.id)).toMatchObject({ finished_at: null });
    });

    it("resends within the sign-in rules, and cancels: the code void, the address unchanged, the session's step cleared, audited", async () => {
      const user = await addUser(unit.deps);
      let s = await session(user, now());
      await startEmailChange(unit.deps, user, s, { ...entry("cancel.me@dealer.example"), password: null }, ctx());
      const flowId = (await sessionRow(s.id)).flow_id!;
      s = { ...s, flow_id: flowId };
      expect(await resendEmailChangeCode(unit.deps, user, s, ctx())).toMatchObject({ kind: "wait" });
      unit.clock.advance(MINUTE);
      expect(await resendEmailChangeCode(unit.deps, user, s, ctx())).toMatchObject({ kind: "sent" });
      const code = await outboxMailbox(unit.deps.db).code("cancel.me@dealer.example", 0);
      unit.clock.advance(MINUTE);
      await cancelEmailChange(unit.deps, user, s, ctx());
      expect(await findFlow(unit.deps.db, flowId)).toMatchObject({ finished_at: now() });
      expect((await codes(flowId)).every((c) => c.voided_at !== null)).toBe(true);
      expect((await codes(flowId)).at(-1)).toMatchObject({ voided_at: now(), void_reason: "cancelled" });
      expect(await reload(user.id)).toMatchObject({ otp_email: user.otp_email, pending_email: null });
      expect(await sessionRow(s.id)).toMatchObject({ stage: "full", flow_id: null, ended_at: null });
      const [cancelled] = await audits(user.login_id, "code.cancelled");
      expect(JSON.parse(cancelled!.detail)).toEqual({ purpose: "email-change" });
      expect(cancelled).toMatchObject({ actor: user.login_id, user_agent: "profile-unit" });
      expect(await confirmEmailChange(unit.deps, user, s, code, ctx())).toEqual({ kind: "no-change" });
      expect(otherThan(code)).not.toBe(code);
    });
  });
});
