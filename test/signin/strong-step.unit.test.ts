import { describe, expect, it } from "vitest";
import { sendInSession } from "../factors/send-in-session.ts";
import { createFlow, findFlow } from "../../src/otp/flows.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { confirmCode, regenerateCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { confirmWithApp, confirmWithRecoveryCode } from "../../src/signin/strong-step.ts";
import type { Session } from "../../src/session/sessions.ts";
import { issueRecoveryCodes } from "../../src/strong-factors/recovery-codes.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { useUnitDeps } from "../support/unit-app.ts";
import { addConfirmedApp, appCode } from "../strong-factors/helpers.ts";

const WAIT = 30_000;
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/**
 * The second step beyond the emailed code (issue 13), as use cases called directly: a user of
 * FAMOS_STRONG_FACTOR_ROLES (here: support) with an app gets no code and cannot use one at Confirm or
 * Regenerate; an app code or a recovery code finishes the sign-in's flow, voids its emailed code,
 * and is counted under its own label.
 */
describe("the strong second step (unit tier)", () => {
  const unit = useUnitDeps({ env: { FAMOS_STRONG_FACTOR_ROLES: "support" } });
  let n = 0;
  const ctx = (): RequestContext => ({ ip: `203.0.113.${++n % 250}`, userAgent: "strong-step-test" });
  const outcomes = async () => Object.fromEntries((await unit.deps.metrics.signIns.get()).values.map((v) => [v.labels.outcome, v.value]));
  const counted = async (outcome: string) => (await outcomes())[outcome] ?? 0;
  const codesOf = (userId: string) => unit.db.selectFrom("codes").select(["flow_id", "void_reason", "voided_at"]).where("user_id", "=", userId).execute();
  const mailKinds = async (userId: string) => (await unit.db.selectFrom("outbox").select("kind").where("user_id", "=", userId).execute()).map((m) => m.kind);

  /** A user who has an app, past the password: the strong step (support) or the code step (role user). */
  async function withApp(role: "support" | "user", returnTo: string | null = null) {
    const user = await addUser(unit.deps, { role });
    const secret = await addConfirmedApp(unit.deps, user.id);
    const step = await passwordStep(unit.deps, { loginId: user.login_id, password: user.password, returnTo }, ctx());
    if (step.kind === "refused" || step.kind === "portal" || step.kind === "enrol") throw new Error(`password step: ${step.kind}`);
    return { user, secret, session: step.session, step };
  }

  it("a support user with an app: the password step mails no code and waits at OTP capture; the app's code signs in", async () => {
    const { user, secret, session, step } = await withApp("support", "/profile");
    expect(step.kind).toBe("strong-factor");
    expect(session).toMatchObject({ user_id: user.id, stage: "otp" });
    const flow = (await findFlow(unit.db, session.flow_id!))!;
    expect(flow).toMatchObject({ user_id: user.id, kind: "signin", return_to: "/profile", codes_sent: 0 });
    expect(await codesOf(user.id)).toEqual([]);
    expect(await mailKinds(user.id)).toEqual([]);

    const before = await counted("app-ok");
    const done = await confirmWithApp(unit.deps, user, session, await appCode(secret, unit.now()), ctx());
    expect(done).toMatchObject({ kind: "signed-in", returnTo: "/profile", flowKind: "signin", session: { id: session.id, stage: "full", flow_id: null, verified_at: unit.now() } });
    expect((await findFlow(unit.db, flow.id))!.finished_at).toBe(unit.now());
    expect(await counted("app-ok")).toBe(before + 1);
  });

  it("an emailed code sent before the support user's app existed no longer signs in, nor is a new one sent; an email change's code still is", async () => {
    const user = await addUser(unit.deps, { role: "support" });
    const step = await passwordStep(unit.deps, { loginId: user.login_id, password: user.password }, ctx());
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    const right = await outboxMailbox(unit.db).code(user.otp_email!, 0);
    // The app set up meanwhile (Profile, in another browser): from now on the code is not enough.
    await addConfirmedApp(unit.deps, user.id);
    unit.clock.advance(WAIT);
    expect(await confirmCode(unit.deps, user, step.session, right, ctx())).toEqual({ kind: "strong-factor-required" });
    expect(await regenerateCode(unit.deps, user, step.session, ctx())).toEqual({ kind: "strong-factor-required" });
    expect((await findFlow(unit.db, step.session.flow_id!))!.codes_sent).toBe(1);

    // The same user's email change: its code goes to the new address whatever the user's factors.
    const change = await sendInSession(unit.deps, user, ctx(), async (tx, send, at) => {
      const flow = await createFlow(tx, unit.deps.random, { userId: user.id, kind: "email-change", email: "next.support@dealer.example", now: at });
      return { issued: await send(flow), flow };
    }, step.session);
    const changing: Session = { ...step.session, stage: "full", flow_id: change.flow.id };
    unit.clock.advance(WAIT);
    expect(await regenerateCode(unit.deps, user, changing, ctx())).toMatchObject({ kind: "sent" });
    expect((await findFlow(unit.db, change.flow.id))!.codes_sent).toBe(2);
  });

  it("a user whose emailed code still signs in gets a new one from Regenerate", async () => {
    const user = await addUser(unit.deps, { role: "support" });
    const step = await passwordStep(unit.deps, { loginId: user.login_id, password: user.password }, ctx());
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    unit.clock.advance(WAIT);
    expect(await regenerateCode(unit.deps, user, step.session, ctx())).toMatchObject({ kind: "sent" });
  });

  it("the app at the code step: a wrong code is counted as app-wrong; the right one finishes the flow and voids its emailed code (other-factor)", async () => {
    const { user, secret, session, step } = await withApp("user");
    expect(step.kind).toBe("code");
    const emailed = await outboxMailbox(unit.db).code(user.otp_email!, 0);
    const [wrongBefore, okBefore] = [await counted("app-wrong"), await counted("app-ok")];
    const code = await appCode(secret, unit.now());
    expect(await confirmWithApp(unit.deps, user, session, otherThan(code), ctx())).toEqual({ kind: "wrong" });
    expect(await counted("app-wrong")).toBe(wrongBefore + 1);
    expect(await codesOf(user.id)).toEqual([{ flow_id: session.flow_id, void_reason: null, voided_at: null }]);

    const done = await confirmWithApp(unit.deps, user, session, code, ctx());
    expect(done).toMatchObject({ kind: "signed-in", returnTo: null, flowKind: "signin", session: { stage: "full" } });
    expect(await counted("app-ok")).toBe(okBefore + 1);
    expect(await codesOf(user.id)).toEqual([{ flow_id: session.flow_id, void_reason: "other-factor", voided_at: unit.now() }]);
    expect(await confirmCode(unit.deps, user, session, emailed, ctx())).not.toMatchObject({ kind: "signed-in" });
  });

  it("the app: a malformed code is not checked, a user without an app has none, a finished or absent flow is void", async () => {
    const { user, secret, session } = await withApp("support");
    const plain = await addUser(unit.deps, { role: "user" });
    const plainStep = await passwordStep(unit.deps, { loginId: plain.login_id, password: plain.password }, ctx());
    const code = await appCode(secret, unit.now());
    const wrongBefore = await counted("app-wrong");
    expect(await confirmWithApp(unit.deps, user, session, "12345", ctx())).toEqual({ kind: "malformed" });
    expect(await confirmWithApp(unit.deps, plain, plainStep.kind === "code" ? plainStep.session : session, code, ctx())).toEqual({ kind: "none" });
    expect(await counted("app-wrong")).toBe(wrongBefore);

    expect(await confirmWithApp(unit.deps, user, { ...session, flow_id: null }, code, ctx())).toEqual({ kind: "void" });
    expect(await confirmWithApp(unit.deps, user, { ...session, flow_id: "no-such-flow" }, code, ctx())).toEqual({ kind: "void" });
    await unit.db.updateTable("flows").set({ finished_at: unit.now() }).where("id", "=", session.flow_id!).execute();
    expect(await confirmWithApp(unit.deps, user, session, code, ctx())).toEqual({ kind: "void" });
    // None of them used the code up.
    expect(await unit.db.selectFrom("authenticator_apps").select("last_step").where("user_id", "=", user.id).executeTakeFirstOrThrow()).toEqual({ last_step: null });
  });

  it("a recovery code: a wrong one counts as recovery-wrong and wakes no sender; the right one signs in, mails its use and wakes the sender", async () => {
    const { user, session } = await withApp("support");
    const { codes } = await unit.db.transaction().execute((tx) => issueRecoveryCodes(tx, unit.deps, user.id));
    const [wrongBefore, okBefore] = [await counted("recovery-wrong"), await counted("recovery-ok")];
    const woken = unit.queued;
    expect(await confirmWithRecoveryCode(unit.deps, user, session, "aaaaa-aaaaa", ctx())).toEqual({ kind: "wrong" });
    expect(await confirmWithRecoveryCode(unit.deps, user, session, "aaaaa", ctx())).toEqual({ kind: "malformed" });
    expect(await counted("recovery-wrong")).toBe(wrongBefore + 1);
    expect(unit.queued).toBe(woken);

    const done = await confirmWithRecoveryCode(unit.deps, user, session, codes[0]!.toUpperCase(), ctx());
    expect(done).toMatchObject({ kind: "signed-in", flowKind: "signin", session: { stage: "full" } });
    expect(await counted("recovery-ok")).toBe(okBefore + 1);
    expect(unit.queued).toBe(woken + 1);
    expect(await mailKinds(user.id)).toEqual(["notice.recovery-code-used"]);
  });

  it("a recovery code of a user without any left: none, and nothing checked or counted", async () => {
    const { user, session } = await withApp("support");
    const { codes } = await unit.db.transaction().execute((tx) => issueRecoveryCodes(tx, unit.deps, user.id));
    await unit.db.updateTable("recovery_codes").set({ used_at: unit.now() }).where("user_id", "=", user.id).execute();
    const before = await outcomes();
    expect(await confirmWithRecoveryCode(unit.deps, user, session, codes[0]!, ctx())).toEqual({ kind: "none" });
    expect(await outcomes()).toEqual(before);
  });

  it("Regenerate on the strong step of a user without an address sends nothing, even once the emailed code would sign in again", async () => {
    const user = await addUser(unit.deps, { role: "support", email: null });
    await addConfirmedApp(unit.deps, user.id);
    const step = await passwordStep(unit.deps, { loginId: user.login_id, password: user.password }, ctx());
    expect(step.kind).toBe("strong-factor");
    if (step.kind !== "strong-factor") return;
    // The app removed from another browser (what removeApp's transaction does): the policy no longer
    // asks for a strong factor, but this sign-in's flow has no address to send a code to.
    await unit.db.deleteFrom("authenticator_apps").where("user_id", "=", user.id).execute();
    expect(await regenerateCode(unit.deps, user, step.session, ctx())).toEqual({ kind: "no-flow" });
    expect(await mailKinds(user.id)).toEqual([]);
    expect(await codesOf(user.id)).toEqual([]);
  });
});
