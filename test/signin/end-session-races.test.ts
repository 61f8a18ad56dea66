import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { cancelSignIn, confirmCode, signOut } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { extractCode } from "../support/smtp.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * Cancel on the code step and Sign out, when another request ended the session first — the first of a
 * double click, another tab — behind another instance, after this request had loaded the session live.
 * Only the request that ended the session audits it; the later one writes nothing and answers
 * "signed-out" (the browser goes to the sign-in page either way). Before, each ignored endSession's
 * answer: two "code.cancelled" (or two "signout") in the trail for one session.
 */
describe.each(DIALECTS)("Cancel and Sign out of a session ended meanwhile, on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "end_race");
  const ctx = { ip: "192.0.2.92", userAgent: "end-race-test" };
  const a = () => competing.t.deps[0]!;
  const b = () => competing.t.deps[1]!;
  const events = async (user: User, event: string) => (await queryAudit(a().db, { subject: user.login_id, event })).length;

  /** A user at the code step on instance a: the session as both requests loaded it. */
  async function atCode() {
    const user = await addUser(a());
    const step = await passwordStep(a(), { loginId: user.login_id, password: user.password, returnTo: null }, ctx);
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    return { user, session: step.session };
  }

  it("a double click of Cancel on the code step: one cancellation in the trail", async () => {
    const { user, session } = await atCode();
    const first = await cancelSignIn(a(), user, session, ctx);
    const second = await cancelSignIn(b(), user, session, ctx);
    expect(await events(user, "code.cancelled")).toBe(1);
    expect([first, second]).toEqual([{ kind: "ended" }, { kind: "signed-out" }]);
  });

  it("a double click of Cancel on \"User profile\" (an enrolment's session, no flow): one cancellation in the trail", async () => {
    const user = await addUser(a(), { email: null });
    const step = await passwordStep(a(), { loginId: user.login_id, password: user.password, returnTo: null }, ctx);
    if (step.kind !== "enrol") throw new Error(`expected enrolment, got ${step.kind}`);
    const first = await cancelSignIn(b(), user, step.session, ctx);
    const second = await cancelSignIn(a(), user, step.session, ctx);
    expect(await events(user, "code.cancelled")).toBe(1);
    expect([first, second]).toEqual([{ kind: "ended" }, { kind: "signed-out" }]);
  });

  it("a double click of Sign out: one sign-out in the trail", async () => {
    const { user, session } = await atCode();
    const [mail] = await liveCodeMails(a().db, user.id);
    const done = await confirmCode(a(), user, session, extractCode(mail!.text_body), ctx);
    if (done.kind !== "signed-in") throw new Error(`expected signed in, got ${done.kind}`);
    const first = await signOut(b(), user, done.session, ctx);
    const second = await signOut(a(), user, done.session, ctx);
    expect(await events(user, "signout")).toBe(1);
    expect([first, second]).toEqual([{ kind: "ended" }, { kind: "signed-out" }]);
  });
});
