import { describe, expect, it } from "vitest";
import { enrolEmail } from "../../src/enrolment/enrol.ts";
import { resendEmailChangeCode, startEmailChange } from "../../src/profile/email-change.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { regenerateCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { beginAppSetup } from "../../src/strong-factors/manage.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * Support's OTP email reset (the user lost the inbox, or someone else reads it) voids every code,
 * finishes every flow and ends every session in one transaction. A request of the user's that loaded
 * its session just before — Regenerate OTP, the first step of an email change, an enrolment, an
 * authenticator app's setup — must then queue no code mail and change nothing: above all no code to
 * the address support has just removed, and none for a session that no longer exists. Each test
 * commits the reset, on a second connection (the command line, another instance), the moment the
 * request has made its last read before its transaction.
 */
describe.each(DIALECTS)("an OTP email reset while a code is on its way on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "code_after_reset");
  const ctx = { ip: "192.0.2.77", userAgent: "code-after-reset-test" };
  const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };
  const a = () => competing.t.deps[0]!;

  const reset = (user: User) => () =>
    resetOtpEmail(competing.t.deps[1]!, operator, user.id, { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-9" }).then((outcome) => {
      if (outcome.kind !== "reset") throw new Error(`not reset: ${outcome.kind}`);
    });

  const codeMails = async (userId: string) =>
    (await a().db.selectFrom("outbox").select(["kind", "recipient"]).where("user_id", "=", userId).where("kind", "like", "code.%").orderBy("created_at").execute()).map((m) => `${m.kind} ${m.recipient}`);
  const liveCodes = async (userId: string) => (await a().db.selectFrom("codes").select("id").where("user_id", "=", userId).where("voided_at", "is", null).where("consumed_at", "is", null).execute()).length;
  const sessionNow = async (id: string) => (await a().db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow()) as Session;

  /** A full session whose code was confirmed just now (no password needed for a Profile change). */
  async function fullSession(user: User) {
    const { session } = await createSession(a().db, a().random, competing.t.clock.now(), a().config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    await a().db.updateTable("sessions").set({ verified_at: competing.t.clock.now() }).where("id", "=", session.id).execute();
    return sessionNow(session.id);
  }

  it("Regenerate OTP at sign-in: no new code goes to the removed address", async () => {
    const user = await addUser(a(), { fullName: "Jane Smith", partnerNumber: "01234" });
    const step = await passwordStep(a(), { loginId: user.login_id, password: user.password }, ctx);
    if (step.kind !== "code") throw new Error(step.kind);
    competing.t.clock.advance(31_000);
    const flowId = step.session.flow_id!;
    const { deps, changed } = competing.during((rows) => rows.some((row) => row.id === flowId && "codes_sent" in row), reset(user));
    const outcome = await regenerateCode(deps, user, step.session, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await codeMails(user.id)).toEqual([`code.signin ${user.otp_email}`]);
    expect(await liveCodes(user.id)).toBe(0);
  });

  it("Regenerate OTP of an email change: no new code goes out for the ended session", async () => {
    const user = await addUser(a(), { fullName: "Jane Smith", partnerNumber: "01234" });
    const started = await startEmailChange(a(), user, await fullSession(user), { entry: { email: "jane.new@dealer.example", confirmEmail: "jane.new@dealer.example", ownMailbox: false }, password: null }, ctx);
    expect(started.kind).toBe("code-sent");
    const session = await sessionNow((await a().db.selectFrom("sessions").select("id").where("user_id", "=", user.id).executeTakeFirstOrThrow()).id);
    competing.t.clock.advance(31_000);
    // The flow is read twice before the transaction (is a change pending? then Regenerate's own read): the second.
    let reads = 0;
    const { deps, changed } = competing.during((rows) => rows.some((row) => row.id === session.flow_id && "codes_sent" in row) && ++reads === 2, reset(user));
    const outcome = await resendEmailChangeCode(deps, user, session, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await codeMails(user.id)).toEqual(["code.email-change jane.new@dealer.example"]);
    expect(await liveCodes(user.id)).toBe(0);
  });

  it("an email change begun: no code, no pending address, no flow for the ended session", async () => {
    const user = await addUser(a(), { fullName: "Jane Smith", partnerNumber: "01234" });
    const session = await fullSession(user);
    // The review's last read (is the address another login ID's?) is the request's last before its transaction.
    const { deps, changed } = competing.during((rows) => rows.some((row) => "n" in row), reset(user));
    const outcome = await startEmailChange(deps, user, session, { entry: { email: "jane.new@dealer.example", confirmEmail: "jane.new@dealer.example", ownMailbox: false }, password: null }, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await codeMails(user.id)).toEqual([]);
    const after = await a().db.selectFrom("users").select(["otp_email", "pending_email"]).where("id", "=", user.id).executeTakeFirstOrThrow();
    expect(after).toEqual({ otp_email: null, pending_email: null });
    expect(await a().db.selectFrom("flows").select("id").where("user_id", "=", user.id).where("finished_at", "is", null).execute()).toEqual([]);
  });

  it("an enrolment: no code to the address typed, which stays unrecorded", async () => {
    const user = await addUser(a(), { fullName: "Jane Smith", partnerNumber: "01234", email: null });
    const step = await passwordStep(a(), { loginId: user.login_id, password: user.password }, ctx);
    if (step.kind !== "enrol") throw new Error(step.kind);
    const { deps, changed } = competing.during((rows) => rows.some((row) => "n" in row), reset(user));
    const outcome = await enrolEmail(deps, user, step.session, { email: "jane@dealer.example", confirmEmail: "jane@dealer.example", ownMailbox: false }, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await codeMails(user.id)).toEqual([]);
    expect((await a().db.selectFrom("users").select("pending_email").where("id", "=", user.id).executeTakeFirstOrThrow()).pending_email).toBeNull();
  });

  it("an authenticator app's setup begun with the password: no key is made for the ended session", async () => {
    const user = await addUser(a(), { fullName: "Jane Smith", partnerNumber: "01234" });
    const { session } = await createSession(a().db, a().random, competing.t.clock.now(), a().config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    // The password check, once it has counted its attempt.
    const { deps, changed } = competing.during((rows) => rows.some((row) => "failures" in row), reset(user));
    const outcome = await beginAppSetup(deps, user, session, user.password, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await a().db.selectFrom("authenticator_apps").select("user_id").where("user_id", "=", user.id).execute()).toEqual([]);
  });
});
