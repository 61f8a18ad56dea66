import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { showUser } from "../../src/cli/commands/user-show.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, overHttp, signInFully, submitPassword } from "../support/client.ts";

const MINUTE = 60_000;
const WAITING = "waiting for its code";

/**
 * A Profile email change that nobody finishes: its session signed out, lapsed by the clock, or its
 * code run out. Nothing may then say a change is waiting — the console's user page, `famos user
 * show`, support's "OTP email reset" confirmation — and a new change still goes through end to end.
 * Over real HTTP; codes live an hour here so that a session's lapse and a code's expiry come apart.
 */
describe.each(["sqlite", "postgres"] as const)("an email change left unfinished, on %s", (database) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_OTP_TTL: "1h" } });
    base = await listen(t);
  });
  afterAll(async () => t?.close());
  const browser = () => new FormClient(overHttp(base));

  /** A user signed in with a confirmed address, a change to `to` started on Profile, its code mailed. */
  async function changing(loginId: string, to: string) {
    const user = await addUser(t.deps, { loginId, email: `${loginId}@dealer.example` });
    const b = browser();
    await signInFully(b, t.smtp, user);
    await b.get("/profile");
    const before = t.smtp.messages.length;
    expect((await b.post("/profile/email", { newEmail: to, confirmNewEmail: to })).headers.location).toBe("/profile/email/confirm?notice=sent");
    await nextCode(t.smtp, to, before);
    expect((await b.get("/profile/email/confirm")).statusCode).toBe(200);
    return { user, b };
  }

  /** What support and the operator are told of the user's OTP email now (a support person signed in afresh, as the clock may have moved). */
  async function told(user: { id: string; login_id: string }) {
    const admin = await addUser(t.deps, { role: "support" });
    const console_ = browser();
    await signInFully(console_, t.smtp, admin);
    const page = (await console_.get(`/support/users/${user.id}`)).body;
    const attention = (await console_.get("/support/attention")).body;
    const reset = await console_.post(`/support/users/${user.id}/reset`, { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC4242" });
    expect(reset.statusCode).toBe(200);
    let text = "";
    await showUser(t.deps, user.login_id, {}, (s) => (text += s));
    let json = "";
    await showUser(t.deps, user.login_id, { json: true }, (s) => (json += s));
    return { page, attention, reset: reset.body, text, json: JSON.parse(json) as { enrolment: string; pendingEmail: string | null } };
  }

  function expectWaiting(seen: Awaited<ReturnType<typeof told>>, masked: string, to: string) {
    expect(seen.page).toContain(`change to ${masked} ${WAITING}`);
    expect(seen.reset).toContain(`and the address ${WAITING} (${masked})`);
    expect(seen.text).toContain(`waiting for a code to ${to}`);
    expect(seen.json).toMatchObject({ enrolment: "confirmed", pendingEmail: to });
  }

  function expectNothingWaiting(seen: Awaited<ReturnType<typeof told>>, loginId: string) {
    expect(seen.page).toContain(`Confirmed: ${loginId[0]}•••@dealer.example`);
    expect(seen.page).not.toContain(`; change to n•••@dealer.example ${WAITING}`);
    expect(seen.page).not.toContain(`Delivery to the address ${WAITING}`);
    expect(seen.reset).toContain(`removes the OTP email (${loginId[0]}•••@dealer.example);`);
    expect(seen.reset).not.toContain(WAITING);
    expect(seen.text).not.toContain("waiting for a code");
    expect(seen.json).toMatchObject({ enrolment: "confirmed", pendingEmail: null });
  }

  /** A fresh change in browser `b` (signed in) to `to`: the code goes to `to`, and confirming it switches the address. */
  async function changeThrough(b: FormClient, user: { id: string; password: string }, to: string) {
    await b.get("/profile");
    const before = t.smtp.messages.length;
    const started = await b.post("/profile/email", { newEmail: to, confirmNewEmail: to, password: user.password });
    expect(started.headers.location).toBe("/profile/email/confirm?notice=sent");
    const code = await nextCode(t.smtp, to, before);
    await b.get("/profile/email/confirm");
    expect((await b.post("/profile/email/confirm", { code })).headers.location).toBe("/profile?done=email-changed");
    expect(await findUserById(t.deps.db, user.id)).toMatchObject({ otp_email: to, pending_email: null });
  }

  it("signed out: nothing says the change waits, not even the bounce of its address under Needs attention, and a new change in a new sign-in goes through", async () => {
    const { user, b } = await changing("xa", "newa@dealer.example");
    const mail = await t.deps.db.selectFrom("outbox").select("id").where("recipient", "=", "newa@dealer.example").executeTakeFirstOrThrow();
    expect((await recordBounce(t.deps, { outboxId: mail.id, kind: "hard", status: "5.1.1", reason: "550 no such user" }, "smtp")).kind).toBe("recorded");
    const bounced = `<a href="/support/users/${user.id}">`;
    const waiting = await told(user);
    expectWaiting(waiting, "n•••@dealer.example", "newa@dealer.example");
    expect(waiting.attention).toContain(bounced);
    expect(waiting.attention).toContain(`n•••@dealer.example (${WAITING})`);
    expect((await b.post("/logout", {})).statusCode).toBe(303);
    const after = await told(user);
    expectNothingWaiting(after, "xa");
    expect(after.attention).not.toContain(bounced);
    const again = browser();
    await signInFully(again, t.smtp, user);
    await changeThrough(again, user, "fresh.a@dealer.example");
  });

  it("the session left idle past FAMOS_SESSION_IDLE, its code still valid: nothing says the change waits, and a new sign-in changes the address", async () => {
    const { user } = await changing("xb", "newb@dealer.example");
    t.clock.advance(29 * MINUTE);
    expectWaiting(await told(user), "n•••@dealer.example", "newb@dealer.example");
    t.clock.advance(2 * MINUTE);
    expectNothingWaiting(await told(user), "xb");
    const again = browser();
    await signInFully(again, t.smtp, user);
    await changeThrough(again, user, "fresh.b@dealer.example");
  });

  it("its code run out in a session still in use: nothing says the change waits, and a new change in that session goes through", async () => {
    const { user, b } = await changing("xc", "newc@dealer.example");
    // The user keeps the session alive on the confirmation page, but types no code.
    for (let i = 0; i < 2; i += 1) {
      t.clock.advance(25 * MINUTE);
      expect((await b.get("/profile/email/confirm")).statusCode).toBe(200);
    }
    t.clock.advance(9 * MINUTE);
    expectWaiting(await told(user), "n•••@dealer.example", "newc@dealer.example");
    t.clock.advance(2 * MINUTE);
    expectNothingWaiting(await told(user), "xc");
    await changeThrough(b, user, "fresh.c@dealer.example");
  });

  it("an enrolment's address stays pending after its session lapses: the rollout's 'pending', asked again at the next sign-in", async () => {
    const user = await addUser(t.deps, { loginId: "xe", email: null });
    const b = browser();
    expect((await submitPassword(b, user.login_id, user.password)).headers.location).toBe("/enrol");
    await b.get("/enrol");
    const before = t.smtp.messages.length;
    expect((await b.post("/enrol", { email: "typo.e@dealer.example", confirmEmail: "typo.e@dealer.example" })).statusCode).toBe(303);
    await nextCode(t.smtp, "typo.e@dealer.example", before);
    t.clock.advance(13 * 60 * MINUTE);
    const seen = await told(user);
    expect(seen.page).toContain(`Pending: t•••@dealer.example is ${WAITING}`);
    expect(seen.reset).toContain(`removes the OTP email and the address ${WAITING} (t•••@dealer.example);`);
    expect(seen.text).toContain("pending (waiting for a code to typo.e@dealer.example)");
    expect(seen.json).toMatchObject({ enrolment: "pending", pendingEmail: "typo.e@dealer.example" });
  });
});
