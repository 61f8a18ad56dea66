import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { sendInSession } from "../factors/send-in-session.ts";
import { createFlow, findFlow } from "../../src/otp/flows.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { deviceToken } from "../../src/regulation/devices.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { cancelSignIn, confirmCode, regenerateCode, signOut } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { tokenHash, type Session } from "../../src/session/sessions.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { createUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/**
 * The sign-in steps (SPEC screens 1–4) as use cases, called directly: what the password step starts
 * (enrolment or the code step, replacing the browser's old session), what a confirmed code
 * finishes, and Regenerate, Cancel and Sign out — each audited and counted.
 */
describe("the sign-in steps (unit tier)", () => {
  let unit: Awaited<ReturnType<typeof createUnitDeps>>;
  let deps: Deps;
  let n = 0;
  beforeAll(async () => {
    unit = await createUnitDeps();
    deps = unit.deps;
  });
  afterAll(async () => unit.close());

  const db = () => unit.deps.db;
  const now = () => unit.clock.now();
  const ctx = (extra: Partial<RequestContext> = {}): RequestContext => ({ ip: `198.51.100.${++n % 250}`, userAgent: "steps-test", ...extra });
  const outcomes = async () => Object.fromEntries((await deps.metrics.signIns.get()).values.map((v) => [v.labels.outcome, v.value]));
  const events = async (subject: string) => (await db().selectFrom("audit").select(["event", "detail"]).where("subject", "=", subject).orderBy("id").execute()).map((a) => [a.event, JSON.parse(a.detail)]);
  const sessionRow = (id: string) => db().selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const code = (email: string) => outboxMailbox(db()).code(email, 0);

  async function atCode(returnTo: string | null = null) {
    const user = await addUser(deps);
    const c = ctx();
    const step = await passwordStep(deps, { loginId: user.login_id, password: user.password, returnTo }, c);
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    return { user, c, step, code: await code(user.otp_email!) };
  }

  it("starts the code step for a confirmed address: a flow, its first code, and a session waiting for it", async () => {
    const before = await outcomes();
    const { user, c, step } = await atCode("/profile");
    expect(step.issued).toMatchObject({ kind: "sent" });
    expect(step.session).toMatchObject({ user_id: user.id, stage: "otp", ip: c.ip, user_agent: "steps-test", created_at: now() });
    expect(step.session.token_hash).toBe(tokenHash(step.token));
    const flow = (await findFlow(db(), step.session.flow_id!))!;
    expect(flow).toMatchObject({ user_id: user.id, kind: "signin", email: user.otp_email, return_to: "/profile", codes_sent: 1 });
    expect(await sessionRow(step.session.id)).toMatchObject({ stage: "otp", flow_id: flow.id });
    expect((await outcomes())["password-ok"]).toBe((before["password-ok"] ?? 0) + 1);
    // The rollout's progress picture counts password-only sign-ins apart: a code sign-in is not one.
    expect((await outcomes())["password-only"] ?? 0).toBe(before["password-only"] ?? 0);
    expect((await events(user.login_id)).map((e) => e[0])).toEqual(["password.ok", "code.sent"]);
  });

  it("starts enrolment for an account without a confirmed address: a session and no flow", async () => {
    const user = await addUser(deps, { email: null });
    const c = ctx();
    const step = await passwordStep(deps, { loginId: user.login_id, password: user.password }, c);
    expect(step).toMatchObject({ kind: "enrol", session: { user_id: user.id, stage: "enrol", flow_id: null, ip: c.ip } });
    if (step.kind !== "enrol") throw new Error("not enrol");
    expect(step.session.token_hash).toBe(tokenHash(step.token));
    expect(await sessionRow(step.session.id)).toMatchObject({ stage: "enrol", flow_id: null });
    expect(await db().selectFrom("flows").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
  });

  it("before the user's wave (issue 12) the password alone opens the portal: a full session without a verified code, no flow, no code", async () => {
    await setWaveStart(db(), "wave-later", now() + 7 * 24 * 60 * MINUTE, now(), "steps-test");
    const user = await addUser(deps, { email: null, partnerNumber: "wave-later" });
    const before = await outcomes();
    const step = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx());
    expect(step).toMatchObject({ kind: "portal", session: { user_id: user.id, stage: "full", flow_id: null, verified_at: null } });
    expect(await db().selectFrom("flows").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
    expect(await db().selectFrom("outbox").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
    expect((await outcomes())["password-only"]).toBe((before["password-only"] ?? 0) + 1);
  });

  it("refuses a wrong password (wrong: true) and a pause (wrong: false), counting each outcome", async () => {
    const user = await addUser(deps);
    const before = await outcomes();
    for (let i = 0; i < 4; i++) expect(await passwordStep(deps, { loginId: user.login_id, password: "wrong password here" }, ctx())).toEqual({ kind: "refused", pause: null, wrong: true });
    expect(await passwordStep(deps, { loginId: user.login_id, password: "wrong password here" }, ctx())).toEqual({ kind: "refused", pause: { scope: "login-id", until: now() + MINUTE }, wrong: true });
    expect(await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx())).toEqual({ kind: "refused", pause: { scope: "login-id", until: now() + MINUTE }, wrong: false });
    const after = await outcomes();
    expect(after["password-refused"]).toBe((before["password-refused"] ?? 0) + 5);
    expect(after["password-locked"]).toBe((before["password-locked"] ?? 0) + 1);
    expect(await db().selectFrom("sessions").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
  });

  it("a new sign-in ends the browser's previous session in the same step, audited; an already ended one is not audited again", async () => {
    const first = await atCode();
    const replaces = { sessionId: first.step.session.id, loginId: first.user.login_id };
    const again = await passwordStep(deps, { loginId: first.user.login_id, password: first.user.password, replaces }, ctx());
    expect(again.kind).toBe("code");
    expect(await sessionRow(first.step.session.id)).toMatchObject({ ended_at: now(), end_reason: "replaced" });
    const ended = async () => (await events(first.user.login_id)).filter((e) => e[0] === "session.ended");
    expect(await ended()).toEqual([["session.ended", { reason: "replaced" }]]);
    await passwordStep(deps, { loginId: first.user.login_id, password: first.user.password, replaces }, ctx());
    expect(await ended()).toHaveLength(1);
    // Enrolment replaces the old session too.
    const enrolling = await addUser(deps, { email: null });
    const old = await passwordStep(deps, { loginId: enrolling.login_id, password: enrolling.password }, ctx());
    if (old.kind !== "enrol") throw new Error("not enrol");
    await passwordStep(deps, { loginId: enrolling.login_id, password: enrolling.password, replaces: { sessionId: old.session.id, loginId: enrolling.login_id } }, ctx());
    expect(await sessionRow(old.session.id)).toMatchObject({ end_reason: "replaced" });
    // So does a sign-in before the user's wave (the password alone): the browser's old session, whose
    // token may have been read, does not stay live on the server beside the new one.
    await setWaveStart(db(), "wave-replace", now() + 7 * 24 * 60 * MINUTE, now(), "steps-test");
    const early = await addUser(deps, { email: null, partnerNumber: "wave-replace" });
    const before = await passwordStep(deps, { loginId: early.login_id, password: early.password }, ctx());
    if (before.kind !== "portal") throw new Error("not portal");
    const next = await passwordStep(deps, { loginId: early.login_id, password: early.password, replaces: { sessionId: before.session.id, loginId: early.login_id } }, ctx());
    expect(next.kind).toBe("portal");
    expect(await sessionRow(before.session.id)).toMatchObject({ ended_at: now(), end_reason: "replaced" });
  });

  it("signs in with the right code: the session advanced to full with a new token, the flow finished, the browser remembered", async () => {
    const { user, step, code: right } = await atCode("/profile");
    // A sign-in confirms no address: an email change under way stays pending, the confirmation time stays.
    await db().updateTable("users").set({ pending_email: "next@dealer.example" }).where("id", "=", user.id).execute();
    const confirmedAt = (await findUserByLogin(db(), user.login_id))!.otp_email_confirmed_at;
    const before = await outcomes();
    const c = ctx();
    const wrong = await confirmCode(deps, user, step.session, otherThan(right), c);
    expect(wrong).toMatchObject({ kind: "wrong" });
    unit.clock.advance(1000);
    const done = await confirmCode(deps, user, step.session, right, c);
    if (done.kind !== "signed-in") throw new Error(`not signed in: ${done.kind}`);
    expect(done).toMatchObject({ returnTo: "/profile", flowKind: "signin", session: { id: step.session.id, stage: "full", flow_id: null, verified_at: now(), last_seen_at: now() } });
    expect(done.token).not.toBe(step.token);
    expect(await sessionRow(step.session.id)).toMatchObject({ token_hash: tokenHash(done.token), stage: "full", verified_at: now() });
    const [device] = await db().selectFrom("devices").selectAll().where("login_key", "=", user.login_id).execute();
    expect(done.deviceToken).toBe(deviceToken(deps.keys.device, device!.id, user.login_id));
    expect(await findUserByLogin(db(), user.login_id)).toMatchObject({ last_sign_in_at: now(), pending_email: "next@dealer.example", otp_email_confirmed_at: confirmedAt });
    expect((await findFlow(db(), step.session.flow_id!))!.finished_at).toBe(now());
    const after = await outcomes();
    expect(after["code-wrong"]).toBe((before["code-wrong"] ?? 0) + 1);
    expect(after["code-ok"]).toBe((before["code-ok"] ?? 0) + 1);
    // The same code for the old session again: "used" (its token was rotated).
    expect(await confirmCode(deps, user, step.session, right, c)).toEqual({ kind: "used" });
  });

  it("renews the device the browser already holds for this login ID instead of making another", async () => {
    const first = await atCode();
    const done = await confirmCode(deps, first.user, first.step.session, first.code, ctx());
    if (done.kind !== "signed-in") throw new Error("not signed in");
    unit.clock.advance(MINUTE);
    const again = await passwordStep(deps, { loginId: first.user.login_id, password: first.user.password }, ctx({ deviceTokens: [done.deviceToken] }));
    if (again.kind !== "code") throw new Error("not code");
    const second = await confirmCode(deps, first.user, again.session, await code(first.user.otp_email!), ctx({ deviceTokens: [done.deviceToken] }));
    if (second.kind !== "signed-in") throw new Error("not signed in");
    expect(second.deviceToken).toBe(done.deviceToken);
    expect(await db().selectFrom("devices").select(["last_used_at"]).where("login_key", "=", first.user.login_id).execute()).toEqual([{ last_used_at: now() }]);
  });

  it("confirms enrolment: the new address confirmed, audited, and a temporary password's stage after the code", async () => {
    const user = await addUser(deps, { email: null });
    await db().updateTable("users").set({ password_temporary_until: now() + 86_400_000 }).where("id", "=", user.id).execute();
    const enrolling = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx());
    if (enrolling.kind !== "enrol") throw new Error("not enrol");
    const fresh = (await findUserByLogin(db(), user.login_id))!;
    const flow = await sendInSession(deps, fresh, ctx(), async (tx, send, at) => {
      const f = await createFlow(tx, deps.random, { userId: user.id, kind: "enrol", email: "new@dealer.example", now: at });
      await tx.updateTable("sessions").set({ stage: "otp", flow_id: f.id }).where("id", "=", enrolling.session.id).execute();
      return { issued: await send(f), f };
    }, enrolling.session);
    const session = await sessionRow(enrolling.session.id);
    unit.clock.advance(1000);
    const done = await confirmCode(deps, fresh, session, await code("new@dealer.example"), ctx());
    expect(done).toMatchObject({ kind: "signed-in", flowKind: "enrol", session: { stage: "password" } });
    const confirmed = (await findUserByLogin(db(), user.login_id))!;
    expect(confirmed).toMatchObject({ otp_email: "new@dealer.example", otp_email_confirmed_at: now(), last_sign_in_at: now() });
    expect((await events(user.login_id)).map((e) => e[0])).toContain("enrolment.confirmed");
    expect(flow.f.kind).toBe("enrol");
  });

  it("a session without a flow, or with one that is gone, has no code to confirm or regenerate", async () => {
    const { user, step } = await atCode();
    const noFlow: Session = { ...step.session, flow_id: null };
    expect(await confirmCode(deps, user, noFlow, "123456", ctx())).toEqual({ kind: "void" });
    expect(await confirmCode(deps, user, { ...step.session, flow_id: "no-such-flow" }, "123456", ctx())).toEqual({ kind: "void" });
    expect(await regenerateCode(deps, user, noFlow, ctx())).toEqual({ kind: "no-flow" });
    expect(await regenerateCode(deps, user, { ...step.session, flow_id: "no-such-flow" }, ctx())).toEqual({ kind: "no-flow" });
    await db().updateTable("flows").set({ finished_at: now() }).where("id", "=", step.session.flow_id!).execute();
    expect(await regenerateCode(deps, user, step.session, ctx())).toEqual({ kind: "no-flow" });
  });

  it("Regenerate sends a new code for the same flow after the wait, audited as regenerated", async () => {
    const { user, step, code: first } = await atCode();
    expect(await regenerateCode(deps, user, step.session, ctx())).toMatchObject({ kind: "wait" });
    unit.clock.advance(30_000);
    expect(await regenerateCode(deps, user, step.session, ctx())).toMatchObject({ kind: "sent" });
    expect(await code(user.otp_email!)).not.toBe(first);
    expect((await findFlow(db(), step.session.flow_id!))!.codes_sent).toBe(2);
    expect((await events(user.login_id)).filter((e) => String(e[0]).startsWith("code.")).map((e) => e[0])).toEqual(["code.sent", "code.regenerated"]);
  });

  it("Cancel voids the code and ends the half-signed-in session, audited; Sign out ends a session, audited", async () => {
    const { user, step, code: right } = await atCode();
    await cancelSignIn(deps, user, step.session, ctx());
    expect(await sessionRow(step.session.id)).toMatchObject({ ended_at: now(), end_reason: "cancelled" });
    expect(await db().selectFrom("codes").select(["void_reason", "voided_at"]).where("flow_id", "=", step.session.flow_id!).execute()).toEqual([{ void_reason: "cancelled", voided_at: now() }]);
    expect(await confirmCode(deps, user, step.session, right, ctx())).not.toMatchObject({ kind: "signed-in" });
    // An enrolment session has no flow: Cancel ends it all the same.
    const enrolling = await addUser(deps, { email: null });
    const enrol = await passwordStep(deps, { loginId: enrolling.login_id, password: enrolling.password }, ctx());
    if (enrol.kind !== "enrol") throw new Error("not enrol");
    await cancelSignIn(deps, enrolling, enrol.session, ctx());
    expect(await sessionRow(enrol.session.id)).toMatchObject({ end_reason: "cancelled" });

    const other = await atCode();
    const done = await confirmCode(deps, other.user, other.step.session, other.code, ctx());
    if (done.kind !== "signed-in") throw new Error("not signed in");
    const c = ctx();
    await signOut(deps, other.user, done.session, c);
    expect(await sessionRow(other.step.session.id)).toMatchObject({ ended_at: now(), end_reason: "signout" });
    const lines = await db().selectFrom("audit").select(["event", "actor", "ip", "user_agent"]).where("subject", "=", other.user.login_id).where("event", "in", ["signout"]).execute();
    expect(lines).toEqual([{ event: "signout", actor: other.user.login_id, ip: c.ip, user_agent: "steps-test" }]);
    expect((await events(user.login_id)).filter((e) => e[0] === "code.cancelled")).toHaveLength(1);
  });
});
