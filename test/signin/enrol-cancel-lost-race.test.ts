import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { enrolEmail } from "../../src/enrolment/enrol.ts";
import { cancelSignIn } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";

/**
 * Cancel on "User profile" (enrolment at first sign-in) that loaded the session before that page's own
 * address submit committed: the submit moved the session to OTP capture with a new token and a live code,
 * but nobody signed in. Cancel is "moved" (a no-op) only when the sign-in was completed; here it ends the
 * session by its id and voids the new code, as Cancel always did — a user on a shared PC who clicked
 * Cancel is signed out. Before, it answered "moved", sent the browser to "/" and left the half-signed-in
 * session live with a live code.
 */
describe("Cancel at 'User profile' losing to the page's own address submit", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it("ends the half-signed-in session and voids its code: 'ended', not 'moved'", async () => {
    const ctx = { ip: "192.0.2.50", userAgent: "enrol-cancel", deviceTokens: [] };
    const user = await addUser(t.deps, { email: null });
    const step = await passwordStep(t.deps, { loginId: user.login_id, password: user.password, returnTo: null }, ctx);
    if (step.kind !== "enrol") throw new Error(`expected enrolment, got ${step.kind}`);
    const entry = { email: "new.addr@dealer.example", confirmEmail: "new.addr@dealer.example", ownMailbox: false };
    expect((await enrolEmail(t.deps, user, step.session, entry, ctx)).kind).toBe("code-sent");
    // The Cancel with the session as it read it before the submit was answered.
    expect(await cancelSignIn(t.deps, user, step.session, ctx)).toEqual({ kind: "ended" });
    const session = await t.deps.db.selectFrom("sessions").select(["ended_at", "end_reason"]).where("id", "=", step.session.id).executeTakeFirstOrThrow();
    expect(session).toEqual({ ended_at: expect.anything(), end_reason: "cancelled" });
    const codes = await t.deps.db.selectFrom("codes").select(["consumed_at", "void_reason"]).where("user_id", "=", user.id).execute();
    expect(codes).toEqual([{ consumed_at: null, void_reason: "cancelled" }]);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "code.cancelled" })).toHaveLength(1);
  });
});
