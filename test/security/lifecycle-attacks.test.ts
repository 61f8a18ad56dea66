import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp, type TestUserInput } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";
import { openTemporaryPasswordForm } from "../support/temporary-password-form.ts";

const DAY = 86_400_000;
const CHOSEN = "a passphrase of my own 42";

/**
 * The operators' side of the lifecycle attacked as tests: what support's console hands out (a
 * temporary password) must keep its rules on every way into the portal, the rollout's password-only
 * ways (before the user's wave, "Later") included. Each attack is one case.
 */
describe.each(["sqlite", "postgres"] as const)("lifecycle, attacked (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_2FA_GRACE_SIGNINS: "3" } });
    const now = t.clock.now();
    await setWaveStart(t.deps.db, "P-LATER", now + 30 * DAY, now, "test");
    support = new FormClient(t.app, "10.20.0.1");
    await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", loginId: `desk.${database}` }));
  });
  afterAll(async () => t?.close());

  /** Support's "Set a temporary password" in the console, as retail IT does it: the password shown once. */
  async function temporaryPasswordFromConsole(input: TestUserInput): Promise<{ id: string; loginId: string; temporary: string }> {
    const user = await addUser(t.deps, { email: null, ...input });
    const identity = { name: user.full_name, loginId: user.login_id, partnerNumber: user.partner_number, ticket: "RITM-77" };
    const formStamp = await openTemporaryPasswordForm(support, user.id);
    await support.post(`/support/users/${user.id}/temporary-password`, { ...identity, formStamp });
    const shown = await support.post(`/support/users/${user.id}/temporary-password/confirm`, { ...identity, formStamp });
    const temporary = /<strong class="secret">([^<]+)<\/strong>/.exec(shown.body)?.[1];
    if (shown.statusCode !== 200 || !temporary) throw new Error(`temporary password: ${shown.statusCode}`);
    return { id: user.id, loginId: user.login_id, temporary };
  }

  it("before the user's 2FA wave, a temporary password opens nothing but \"Choose a new password\", and works once", async () => {
    const { id, loginId, temporary } = await temporaryPasswordFromConsole({ loginId: `early.temp.${database}`, partnerNumber: "P-LATER" });
    const client = new FormClient(t.app, "10.20.0.2");
    const first = await submitPassword(client, loginId, temporary);
    expect(first.headers.location).toBe("/choose-password");
    expect((await client.get("/profile")).headers.location).toBe("/choose-password");
    // Whoever else read it (the ticket, the phone call) finds it spent.
    expect((await submitPassword(new FormClient(t.app, "10.20.0.3"), loginId, temporary)).statusCode).toBe(401);
    await client.get("/choose-password");
    expect((await client.post("/choose-password", { newPassword: CHOSEN, confirmNewPassword: CHOSEN })).statusCode).toBe(303);
    expect((await client.get("/profile")).statusCode).toBe(200);
    expect((await findUserById(t.deps.db, id))!.password_temporary_until).toBeNull();
    // Still password-only before the wave: the console stays behind a code.
    expect((await submitPassword(new FormClient(t.app, "10.20.0.4"), loginId, CHOSEN)).headers.location).toBe("/");
    const events = (await queryAudit(t.deps.db, { subject: loginId })).map((e) => e.event);
    expect(events.filter((e) => e === "password.changed")).toHaveLength(1);
  });

  it("two sign-ins at once with one temporary password before the wave: one reaches \"Choose a new password\", the other is refused", async () => {
    const { loginId, temporary } = await temporaryPasswordFromConsole({ loginId: `early.race.${database}`, partnerNumber: "P-LATER" });
    const answers = await Promise.all(["10.20.1.1", "10.20.1.2", "10.20.1.3"].map((ip) => submitPassword(new FormClient(t.app, ip), loginId, temporary)));
    expect(answers.map((a) => a.headers.location ?? a.statusCode).sort()).toEqual([401, 401, "/choose-password"].sort());
  });

  it("\"Later\" on User profile with a temporary password leads to \"Choose a new password\", and the temporary password works once", async () => {
    const { loginId, temporary } = await temporaryPasswordFromConsole({ loginId: `later.temp.${database}`, partnerNumber: "P-NOW" });
    const client = new FormClient(t.app, "10.20.0.5");
    expect((await submitPassword(client, loginId, temporary)).headers.location).toBe("/enrol");
    expect((await client.get("/enrol")).body).toContain("Later");
    const later = await client.post("/enrol/later", {});
    expect(later.headers.location).toBe("/choose-password");
    expect((await client.get("/profile")).headers.location).toBe("/choose-password");
    expect((await submitPassword(new FormClient(t.app, "10.20.0.6"), loginId, temporary)).statusCode).toBe(401);
  });

  it("two browsers at \"User profile\" with one temporary password: the first \"Later\" uses it up, the second reaches nothing", async () => {
    const { loginId, temporary } = await temporaryPasswordFromConsole({ loginId: `later.twice.${database}`, partnerNumber: "P-NOW" });
    const owner = new FormClient(t.app, "10.20.3.1");
    const reader = new FormClient(t.app, "10.20.3.2");
    // The password step does not use it up: both reach User profile.
    expect((await submitPassword(owner, loginId, temporary)).headers.location).toBe("/enrol");
    expect((await submitPassword(reader, loginId, temporary)).headers.location).toBe("/enrol");
    await owner.get("/enrol");
    expect((await owner.post("/enrol/later", {})).headers.location).toBe("/choose-password");
    await reader.get("/enrol");
    const second = await reader.post("/enrol/later", {});
    expect(second.headers.location ?? second.statusCode).not.toBe("/choose-password");
    expect((await reader.get("/choose-password")).headers.location).toMatch(/^\/login/);
    expect((await owner.get("/choose-password")).statusCode).toBe(200);
  });

  it("two browsers at OTP capture with one temporary password: the first code confirmed uses it up, the second code opens nothing", async () => {
    const email = `otp.twice.${database}@dealer.example`;
    const { loginId, temporary } = await temporaryPasswordFromConsole({ loginId: `otp.twice.${database}`, partnerNumber: "P-NOW", email });
    const [owner, other] = [new FormClient(t.app, "10.20.4.1"), new FormClient(t.app, "10.20.4.2")];
    let before = t.smtp.messages.length;
    expect((await submitPassword(owner, loginId, temporary)).headers.location).toBe("/otp");
    const ownerCode = await nextCode(t.smtp, email, before);
    before = t.smtp.messages.length;
    expect((await submitPassword(other, loginId, temporary)).headers.location).toBe("/otp");
    const otherCode = await nextCode(t.smtp, email, before);
    await owner.get("/otp");
    expect((await owner.post("/otp", { code: ownerCode })).headers.location).toBe("/choose-password");
    await other.get("/otp");
    const second = await other.post("/otp", { code: otherCode });
    expect(second.headers.location ?? second.statusCode).not.toBe("/choose-password");
    expect((await other.get("/choose-password")).headers.location).toMatch(/^\/login/);
  });

  /** Support's "Reset OTP email" in the console, as retail IT does it. */
  async function resetFromConsole(user: { id: string; full_name: string; login_id: string; partner_number: string }): Promise<void> {
    const identity = { name: user.full_name, loginId: user.login_id, partnerNumber: user.partner_number, ticket: "RITM-78" };
    await support.get(`/support/users/${user.id}`);
    await support.post(`/support/users/${user.id}/reset`, identity);
    expect((await support.post(`/support/users/${user.id}/reset/confirm`, identity)).headers.location).toBe(`/support/users/${user.id}?done=reset`);
  }

  it("support's OTP email reset before the user's wave brings \"User profile\" at the next sign-in (as its mail says), never the password alone", async () => {
    const user = await addUser(t.deps, { loginId: `early.reset.${database}`, partnerNumber: "P-LATER", email: `early.reset.${database}@dealer.example` });
    // Enrolled early, the account is owed its second factor before its wave (rollout/applies.ts).
    expect((await submitPassword(new FormClient(t.app, "10.20.2.1"), user.login_id, user.password)).headers.location).toBe("/otp");
    await resetFromConsole(user);
    const client = new FormClient(t.app, "10.20.2.2");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/enrol");
    expect((await client.get("/profile")).headers.location).toBe("/enrol");
    expect((await queryAudit(t.deps.db, { subject: user.login_id, event: "signin.before-wave" }))).toHaveLength(0);
  });

  it("support's OTP email reset after the wave offers no \"Later\": an account that had two factors does not drop to the password alone", async () => {
    const user = await addUser(t.deps, { loginId: `late.reset.${database}`, partnerNumber: "P-NOW", email: `late.reset.${database}@dealer.example` });
    await resetFromConsole(user);
    const client = new FormClient(t.app, "10.20.2.3");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/enrol");
    expect((await client.get("/enrol")).body).not.toContain("Later");
    expect((await client.post("/enrol/later", {})).statusCode).toBe(409);
    expect((await client.get("/profile")).headers.location).toBe("/enrol");
  });
});
