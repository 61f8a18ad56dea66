import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { confirmEmailChange } from "../../src/profile/email-change.ts";
import { provePassword } from "../../src/profile/reauthenticate.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { loadSignedIn } from "../../src/session/sessions.ts";
import { confirmCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully } from "../support/client.ts";
import { atCode, otherCode } from "../security/helpers.ts";

/**
 * Issue 10.5: sign-in and the email change share checkCode, sign-in and Profile share checkPassword.
 * Each difference the copies had drifted into is settled once; each is tested here on both paths.
 */
describe("one home for each factor rule: the settled differences", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const counted = async (loginKey: string) => {
    const info = await accountLockInfo(t.deps, loginKey, t.clock.now());
    return info.codeFailures + info.passwordFailures + info.devices.reduce((sum, d) => sum + d.failures, 0);
  };

  const CTX = { ip: "198.51.100.89", userAgent: "t", deviceTokens: [] };
  const signedIn = async (client: FormClient) => (await loadSignedIn(t.deps.db, client.cookies.get("famos_session")!, t.clock.now(), t.config.session))!;

  /** A signed-in user with an email change waiting for its code, and that code. */
  async function atEmailChange() {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    const before = t.smtp.messages.length;
    const to = `changed.${user.login_id}@dealer.example`;
    await client.post("/profile/email", { newEmail: to, confirmNewEmail: to });
    const code = await nextCode(t.smtp, to, before);
    await client.get("/profile/email/confirm");
    return { user, client, code };
  }

  it("the right code twice at once: one confirms, the twin is refused as used and counts nothing — at sign-in", async () => {
    const { client, code, user } = await atCode(t);
    const { session } = await signedIn(client);
    const answers = await Promise.all([confirmCode(t.deps, user, session, code, CTX), confirmCode(t.deps, user, session, code, CTX)]);
    expect(answers.map((a) => a.kind).sort()).toEqual(["signed-in", "used"]);
    expect(await counted(user.login_key)).toBe(0);
  });

  it("the right code twice at once: one confirms, the twin is refused as used and counts nothing — in the email change", async () => {
    const { client, code, user } = await atEmailChange();
    const { session } = await signedIn(client);
    const answers = await Promise.all([confirmEmailChange(t.deps, user, session, code, CTX), confirmEmailChange(t.deps, user, session, code, CTX)]);
    expect(answers.map((a) => a.kind).sort()).toEqual(["changed", "used"]);
    expect(await counted(user.login_key)).toBe(0);
  });

  it("wrong codes, then the right one: the count ends in the confirming transaction, with code.failed audited with its purpose — at sign-in", async () => {
    const { client, code, user } = await atCode(t);
    for (let i = 1; i <= 2; i += 1) await client.post("/otp", { code: otherCode(code, i) });
    expect(await counted(user.login_key)).toBe(2);
    expect((await client.post("/otp", { code })).statusCode).toBe(303);
    expect(await counted(user.login_key)).toBe(0);
    const failed = await queryAudit(t.deps.db, { subject: user.login_id, event: "code.failed" });
    expect(failed.map((e) => e.detail.purpose)).toEqual(["signin", "signin"]);
  });

  it("wrong codes, then the right one: the count ends in the confirming transaction, with code.failed audited with its purpose — in the email change", async () => {
    const { client, code, user } = await atEmailChange();
    for (let i = 1; i <= 2; i += 1) await client.post("/profile/email/confirm", { code: otherCode(code, i) });
    expect(await counted(user.login_key)).toBe(2);
    expect((await client.post("/profile/email/confirm", { code })).statusCode).toBe(303);
    expect(await counted(user.login_key)).toBe(0);
    const failed = await queryAudit(t.deps.db, { subject: user.login_id, event: "code.failed" });
    expect(failed.map((e) => e.detail.purpose)).toEqual(["email-change", "email-change"]);
  });

  it("a new sign-in ends the browser's previous session in the password step's own transaction, audited", async () => {
    const first = await addUser(t.deps);
    const second = await addUser(t.deps);
    const client = new FormClient(t.app, "198.51.100.92");
    await signInFully(client, t.smtp, first);
    const { session } = await signedIn(client);
    await client.get("/login");
    expect((await client.post("/login", { loginId: second.login_id, password: second.password })).headers.location).toBe("/otp");
    const ended = await t.deps.db.selectFrom("sessions").select("end_reason").where("id", "=", session.id).executeTakeFirstOrThrow();
    expect(ended.end_reason).toBe("replaced");
    const [event] = await queryAudit(t.deps.db, { subject: first.login_id, event: "session.ended" });
    expect(event!.detail).toEqual({ reason: "replaced" });
  });

  it("an over-long password is refused uncounted, after the same burn verification, on the sign-in and on Profile", async () => {
    const user = await addUser(t.deps);
    const ctx = { ip: "198.51.100.90", userAgent: "t", deviceTokens: [] };
    const long = "x".repeat(1025);
    expect(await passwordStep(t.deps, { loginId: user.login_id, password: long }, ctx)).toMatchObject({ kind: "refused", pause: null });
    expect(await provePassword(t.deps, user, long, ctx, "password-change")).toEqual({ kind: "wrong" });
    expect(await counted(user.login_key)).toBe(0);
  });

  it("a right password is audited the same on the sign-in and on Profile (password.ok, with what it was for)", async () => {
    const user = await addUser(t.deps);
    const ctx = { ip: "198.51.100.91", userAgent: "t", deviceTokens: [] };
    expect((await passwordStep(t.deps, { loginId: user.login_id, password: user.password }, ctx)).kind).toBe("code");
    expect(await provePassword(t.deps, user, user.password, ctx, "email-change")).toEqual({ kind: "ok" });
    const ok = await queryAudit(t.deps.db, { subject: user.login_id, event: "password.ok" });
    expect(ok.map((e) => e.detail.during ?? "signin").sort()).toEqual(["email-change", "signin"]);
    // A wrong one on Profile is a failure like at sign-in, counted toward the same lock.
    expect(await provePassword(t.deps, user, "not the password", ctx, "email-change")).toEqual({ kind: "wrong" });
    expect((await accountLockInfo(t.deps, user.login_key, t.clock.now())).passwordFailures).toBe(1);
  });
});
