import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser, enableUser } from "../../src/account/disable.ts";
import { eraseUser } from "../../src/account/erase.ts";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { hashPassword } from "../../src/password/hash.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, overHttp, signInFully, submitPassword } from "../support/client.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const strip = (body: string) => body.replace(/name="_csrf" value="[^"]+"/g, "");
const twice = (password: string) => ({ newPassword: password, confirmNewPassword: password });

/**
 * Issue 11 over real HTTP: what a leaver, and a forgotten password, can still do in the middle of
 * things. A leaver can do nothing once disabled or erased; nothing old comes back after "Enable".
 */
describe("a leaver, and a forgotten password, in the middle of things", () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
    base = await listen(t);
  });
  afterAll(async () => t?.close());
  const browser = () => new FormClient(overHttp(base));
  const liveUser = async (id: string) => t.deps.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();

  /** "Forgot password?" step 1 in browser `b`; the code mailed to `email`, if one is awaited, and the code page. */
  async function askReset(b: FormClient, loginId: string, email?: string) {
    await b.get("/forgot-password");
    const before = t.smtp.messages.length;
    const answer = await b.post("/forgot-password", { loginId });
    await t.app.afterReply.settled();
    const code = email ? await nextCode(t.smtp, email, before) : "";
    return { answer, code, page: await b.get("/forgot-password/code") };
  }

  /** Profile → change the OTP email to `to` in browser `b` (signed in), with the password; the code is on its way. */
  async function beginEmailChange(b: FormClient, password: string, to: string) {
    await b.get("/profile");
    const started = await b.post("/profile/email", { newEmail: to, confirmNewEmail: to, password });
    expect(started.headers.location).toBe("/profile/email/confirm?notice=sent");
  }

  /** A user signed in in one browser, with an email change to `to` waiting for its code. */
  async function signedInChangingEmail(loginId: string, to: string) {
    const user = await addUser(t.deps, { loginId, email: `${loginId}@dealer.example` });
    const one = browser();
    await signInFully(one, t.smtp, user);
    await beginEmailChange(one, user.password, to);
    return { user, one };
  }

  /** The reset's code page refuses `code` with the one answer for wrong, void and unknown. */
  async function expectCodeRefused(b: FormClient, code: string) {
    const refused = await b.post("/forgot-password/code", { code, ...twice("a brand new passphrase") });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("That code is not right, or no longer valid.");
  }

  it("on OTP capture with a code mailed: disabled, Confirm and Regenerate sign nobody in; enabled, the old code and session stay dead", async () => {
    const user = await addUser(t.deps, { loginId: "mid.a", email: "mid.a@dealer.example" });
    const b = browser();
    const before = t.smtp.messages.length;
    expect((await submitPassword(b, user.login_id, user.password)).headers.location).toBe("/otp");
    const code = await nextCode(t.smtp, "mid.a@dealer.example", before);
    await b.get("/otp");
    await disableUser(t.deps, operator, user.id);
    const sent = t.smtp.messages.length;
    expect((await b.post("/otp", { code })).headers.location).toBe("/login?ended=1");
    expect((await b.post("/otp/regenerate", {})).headers.location).toMatch(/^\/login/);
    expect(t.smtp.messages.length).toBe(sent);
    await enableUser(t.deps, operator, user.id);
    expect((await b.post("/otp", { code })).headers.location).toMatch(/^\/login/);
    expect((await b.get("/profile")).statusCode).toBe(303);
  });

  it("half-way through Forgot password?: disabled, the mailed code sets nothing; enabled, it still sets nothing", async () => {
    const user = await addUser(t.deps, { loginId: "mid.b", email: "mid.b@dealer.example" });
    const b = browser();
    const { code } = await askReset(b, user.login_id, "mid.b@dealer.example");
    await disableUser(t.deps, operator, user.id);
    await expectCodeRefused(b, code);
    await enableUser(t.deps, operator, user.id);
    await b.get("/forgot-password/code");
    await expectCodeRefused(b, code);
    expect((await submitPassword(browser(), user.login_id, user.password)).headers.location).toBe("/otp");
  });

  it("half-way through Forgot password?: erased, the code is refused as any wrong one, and a new reset answers as for nobody", async () => {
    const user = await addUser(t.deps, { loginId: "mid.e", email: "mid.e@dealer.example" });
    const b = browser();
    const { code } = await askReset(b, user.login_id, "mid.e@dealer.example");
    await eraseUser(t.deps, operator, user.id);
    await expectCodeRefused(b, code);
    const erased = await askReset(browser(), user.login_id);
    const nobody = await askReset(browser(), "mid.nobody");
    expect(erased.answer.headers.location).toBe(nobody.answer.headers.location);
    expect(strip(erased.page.body)).toBe(strip(nobody.page.body));
  });

  it("a Profile email change pending when support disables: after Enable, nothing says a change is waiting, and its code stays dead", async () => {
    const admin = await addUser(t.deps, { loginId: "mid.support", email: "mid.support@dealer.example", role: "support" });
    const console_ = browser();
    await signInFully(console_, t.smtp, admin);
    const user = await addUser(t.deps, { loginId: "mid.c", email: "mid.c@dealer.example" });
    const one = browser();
    const two = browser();
    await signInFully(one, t.smtp, user);
    await signInFully(two, t.smtp, user);
    const before = t.smtp.messages.length;
    await beginEmailChange(one, user.password, "new.c@dealer.example");
    const code = await nextCode(t.smtp, "new.c@dealer.example", before);
    await one.get("/profile/email/confirm");
    // Support sees the change waiting, then disables the leaver from the console.
    const waiting = "change to n•••@dealer.example waiting for its code";
    expect((await console_.get(`/support/users/${user.id}`)).body).toContain(waiting);
    await console_.get(`/support/users/${user.id}/disable`);
    expect((await console_.post(`/support/users/${user.id}/disable`)).headers.location).toContain(`/support/users/${user.id}?done=disabled`);
    expect((await one.post("/profile/email/confirm", { code })).headers.location).toMatch(/^\/login/);
    await console_.get(`/support/users/${user.id}`);
    expect((await console_.post(`/support/users/${user.id}/enable`)).headers.location).toBe(`/support/users/${user.id}?done=enabled`);

    // Re-enabled: the old browsers are signed out, the old code changes nothing, and no change is pending.
    expect((await one.post("/profile/email/confirm", { code })).headers.location).toMatch(/^\/login/);
    expect((await two.get("/profile")).statusCode).toBe(303);
    const page = (await console_.get(`/support/users/${user.id}`)).body;
    expect(page).not.toContain(waiting);
    expect(page).not.toContain("Delivery to the address waiting for its code");
    expect(page).toContain("Confirmed: m•••@dealer.example");
    expect(await liveUser(user.id)).toMatchObject({ otp_email: "mid.c@dealer.example", pending_email: null });
  });

  it("a password changed on Profile: another session's pending email change ends with its address; the session's own stays", async () => {
    const { user, one } = await signedInChangingEmail("mid.p", "own.p@dealer.example");
    await one.get("/profile");
    // The session that started the change changes the password: its change goes on.
    const changed = await one.post("/profile/password", { currentPassword: user.password, ...twice("changed in this session") });
    expect(changed.headers.location).toBe("/profile?done=password-changed");
    expect(await liveUser(user.id)).toMatchObject({ pending_email: "own.p@dealer.example" });
    // Another browser changes it again: the first one's change ends, and so does its pending address.
    const two = browser();
    await signInFully(two, t.smtp, { ...user, password: "changed in this session" });
    await two.get("/profile");
    const again = await two.post("/profile/password", { currentPassword: "changed in this session", ...twice("changed from elsewhere") });
    expect(again.headers.location).toBe("/profile?done=password-changed");
    expect(await liveUser(user.id)).toMatchObject({ otp_email: "mid.p@dealer.example", pending_email: null });
  });

  it("famos user import --update with a new password hash ends a pending email change with its address, as any password change does", async () => {
    const { user, one } = await signedInChangingEmail("mid.i", "new.i@dealer.example");
    const row = { line: 2, loginId: user.login_id, fullName: user.full_name, partnerNumber: user.partner_number, role: user.role, email: null, passwordHash: await hashPassword("imported from the dealer") };
    const report = await storeImportedUsers(t.deps, [row], { update: true, actor: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } });
    expect(report).toMatchObject({ updated: 1, refused: [] });
    expect((await one.get("/profile")).statusCode).toBe(303);
    expect(await liveUser(user.id)).toMatchObject({ otp_email: "mid.i@dealer.example", pending_email: null });
    const open = await t.deps.db.selectFrom("flows").select("id").where("user_id", "=", user.id).where("finished_at", "is", null).execute();
    expect(open).toEqual([]);
  });

  it("a browser holding a device cookie: once disabled, the right password is answered as a wrong one", async () => {
    const user = await addUser(t.deps, { loginId: "mid.d", email: "mid.d@dealer.example" });
    const b = browser();
    await signInFully(b, t.smtp, user);
    await b.post("/logout", {});
    await disableUser(t.deps, operator, user.id);
    const right = await submitPassword(b, user.login_id, user.password);
    const wrong = await submitPassword(b, user.login_id, "not the password at all");
    expect(right.statusCode).toBe(401);
    expect(strip(right.body)).toBe(strip(wrong.body));
  });

  it("two resets at once, while a third browser sits on OTP capture: one password is set, the other reset and the older code are refused", async () => {
    const user = await addUser(t.deps, { loginId: "mid.r", email: "mid.r@dealer.example" });
    const otp = browser();
    const before = t.smtp.messages.length;
    await submitPassword(otp, user.login_id, user.password);
    const signInCode = await nextCode(t.smtp, "mid.r@dealer.example", before);
    await otp.get("/otp");
    const [r1, r2] = [browser(), browser()];
    const { code: c1 } = await askReset(r1, user.login_id, "mid.r@dealer.example");
    const { code: c2 } = await askReset(r2, user.login_id, "mid.r@dealer.example");
    const answers = await Promise.all([
      r1.post("/forgot-password/code", { code: c1, ...twice("first reset passphrase") }),
      r2.post("/forgot-password/code", { code: c2, ...twice("second reset passphrase") }),
    ]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([303, 400]);
    const won = answers[0]!.statusCode === 303 ? "first reset passphrase" : "second reset passphrase";
    expect((await otp.post("/otp", { code: signInCode })).headers.location).toBe("/login?ended=1");
    expect((await submitPassword(browser(), user.login_id, won)).headers.location).toBe("/otp");
  });

  it("a reset for an address that bounces answers as for nobody", async () => {
    const user = await addUser(t.deps, { loginId: "mid.x", email: "mid.x@dealer.example" });
    await askReset(browser(), user.login_id, "mid.x@dealer.example");
    const mail = await t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", user.id).orderBy("created_at", "desc").executeTakeFirstOrThrow();
    expect((await recordBounce(t.deps, { outboxId: mail.id, kind: "hard", status: "5.1.1", reason: "550 no such user" }, "smtp")).kind).toBe("recorded");
    const bounced = await askReset(browser(), user.login_id);
    const nobody = await askReset(browser(), "mid.nobody");
    expect(bounced.answer.headers.location).toBe(nobody.answer.headers.location);
    expect(strip(bounced.page.body)).toBe(strip(nobody.page.body));
    expect(bounced.page.statusCode).toBe(200);
  });
});
