import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

const DAY = 86_400_000;

/**
 * Red team 2026-12-07: the portal's early enrolment (`/rollout/enrol`, the banner's "set your OTP email
 * now") set the OTP email of a session the password alone opened with nothing more than the session,
 * while Profile's form for the same address, and a passkey or an app set up there, ask for the password
 * again (ASVS 3.7.1: no code was ever confirmed in such a session). Whoever found the portal open on a
 * shared PC (idle 30 minutes, up to 12 hours) made their own mailbox the account's second factor: from
 * the wave on every code went there, nobody was told (the account had no address to tell), and with
 * FAMOS_PASSWORD_RESET=self its "Forgot password?" code too.
 */
describe.each(DIALECTS)("early enrolment asks what Profile asks (%s)", (dialect) => {
  let t: TestApp;
  let partner = 0;
  const newPartner = () => `ee${dialect.slice(0, 2)}${(partner += 1)}`;

  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A user before the wave, signed in with the password alone; 20 minutes later another person at the same browser. */
  async function leftSignedIn() {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const owner = new FormClient(t.app, "10.30.0.1");
    expect((await submitPassword(owner, user.login_id, user.password)).headers.location).toBe("/");
    t.clock.advance(20 * 60_000);
    const passer = new FormClient(t.app, "10.30.0.1");
    for (const [name, value] of owner.cookies) passer.cookies.set(name, value);
    return { user, owner, passer };
  }

  it("the session alone sets no address: no code is mailed, nothing is pending, and the form asks for the password", async () => {
    const { user, passer } = await leftSignedIn();
    const form = await passer.get("/rollout/enrol");
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="password"');
    const mails = t.smtp.messages.length;
    const address = `passer.${user.login_id}@elsewhere.example`;
    const refused = await passer.post("/rollout/enrol", { email: address, confirmEmail: address });
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain("Enter your password to set the address that will receive your codes.");
    expect(refused.body).toContain('name="password"');
    const wrong = await passer.post("/rollout/enrol", { email: address, confirmEmail: address, password: "not the password at all" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("The password is not right");
    expect(t.smtp.messages.slice(mails).filter((m) => m.envelopeTo.includes(address))).toEqual([]);
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect([stored.otp_email, stored.pending_email]).toEqual([null, null]);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "enrolment.started" })).toEqual([]);
    const [failed] = await queryAudit(t.deps.db, { subject: user.login_id, event: "password.failed" });
    expect(failed!.detail).toMatchObject({ during: "email-change" });
    // Still the portal, and the address form again, as Profile's answers.
    expect((await passer.get("/")).body).toContain('action="/logout"');
  });

  it("with the password, the address is enrolled as before: its code, then two factors at every sign-in", async () => {
    const { user, owner } = await leftSignedIn();
    const address = `${user.login_id}@dealer.example`;
    const mails = t.smtp.messages.length;
    await owner.get("/rollout/enrol");
    const sent = await owner.post("/rollout/enrol", { email: address, confirmEmail: address, password: user.password });
    expect(sent.headers.location).toBe("/otp?notice=sent");
    const code = await nextCode(t.smtp, address, mails);
    await owner.get("/otp");
    expect((await owner.post("/otp", { code })).statusCode).toBe(303);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe(address);
    expect((await submitPassword(new FormClient(t.app), user.login_id, user.password)).headers.location).toBe("/otp");
  });
});
