import { describe, expect, it } from "vitest";
import { cancelEmailChange, resendEmailChangeCode, startEmailChange } from "../../src/profile/email-change.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { confirmCode, regenerateCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser } from "../support/app.ts";
import { extractCode } from "../support/smtp.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * Regenerate OTP in one tab while the same session finishes the flow in another — the sign-in
 * confirmed, the email change cancelled — the moment Regenerate has read the flow as open: the session
 * is still live, so only the flow's own state can stop the code, and it must (countCode counts only
 * an unfinished flow). No code, no mail; the answer is the one for no flow at all.
 */
describe.each(DIALECTS)("Regenerate OTP for a flow finished in another tab on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "code_after_finish");
  const ctx = { ip: "192.0.2.78", userAgent: "code-after-finish-test" };
  const a = () => competing.t.deps[0]!;
  const tab2 = () => competing.t.deps[1]!;

  const codeMails = async (userId: string) =>
    (await a().db.selectFrom("outbox").select(["kind", "recipient", "text_body"]).where("user_id", "=", userId).where("kind", "like", "code.%").orderBy("created_at").execute());
  const codesSent = async (flowId: string) => (await a().db.selectFrom("flows").select("codes_sent").where("id", "=", flowId).executeTakeFirstOrThrow()).codes_sent;
  const sessionNow = async (id: string) => (await a().db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow()) as Session;

  it("at sign-in, the code confirmed in the other tab: no new code goes out for the finished sign-in", async () => {
    const user = await addUser(a());
    const step = await passwordStep(a(), { loginId: user.login_id, password: user.password }, ctx);
    if (step.kind !== "code") throw new Error(step.kind);
    competing.t.clock.advance(31_000);
    const flowId = step.session.flow_id!;
    const [first] = await codeMails(user.id);
    const confirm = async () => {
      const outcome = await confirmCode(tab2(), user, step.session, extractCode(first!.text_body!), ctx);
      if (outcome.kind !== "signed-in") throw new Error(`not signed in: ${outcome.kind}`);
    };
    const { deps, changed } = competing.during((rows) => rows.some((row) => row.id === flowId && "codes_sent" in row), confirm);
    const outcome = await regenerateCode(deps, user, step.session, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "no-flow" });
    expect((await codeMails(user.id)).map((m) => m.kind)).toEqual(["code.signin"]);
    expect(await codesSent(flowId)).toBe(1);
  });

  it("of an email change, cancelled in the other tab: no new code goes to the address given up", async () => {
    const user = await addUser(a());
    const { session: made } = await createSession(a().db, a().random, competing.t.clock.now(), a().config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    await a().db.updateTable("sessions").set({ verified_at: competing.t.clock.now() }).where("id", "=", made.id).execute();
    const entry = { email: "jane.gone@dealer.example", confirmEmail: "jane.gone@dealer.example", ownMailbox: false };
    expect((await startEmailChange(a(), user, await sessionNow(made.id), { entry, password: null }, ctx)).kind).toBe("code-sent");
    const session = await sessionNow(made.id);
    competing.t.clock.advance(31_000);
    // The flow is read twice before the transaction (is a change pending? then Regenerate's own read): the second.
    let reads = 0;
    const { deps, changed } = competing.during(
      (rows) => rows.some((row) => row.id === session.flow_id && "codes_sent" in row) && ++reads === 2,
      () => cancelEmailChange(tab2(), user, session, ctx),
    );
    const outcome = await resendEmailChangeCode(deps, user, session, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "no-flow" });
    expect((await codeMails(user.id)).map((m) => `${m.kind} ${m.recipient}`)).toEqual(["code.email-change jane.gone@dealer.example"]);
    expect(await codesSent(session.flow_id!)).toBe(1);
  });
});
