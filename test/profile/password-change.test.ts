import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";

const NEW_PASSWORD = "purple elephant drives slowly";

describe("Profile: change the password (SPEC item 6)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  async function signedInUser() {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    return { user, client };
  }

  it("changes the password, ends the other sessions, keeps this one and tells the OTP email", async () => {
    const { user, client } = await signedInUser();
    const other = new FormClient(t.app, "10.0.0.7");
    await signInFully(other, t.smtp, user);
    await client.get("/profile");

    const changed = await client.post("/profile/password", { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD });
    expect(changed.statusCode).toBe(303);
    expect(changed.headers.location).toBe("/profile?done=password-changed");
    expect((await client.get("/profile?done=password-changed")).body).toContain("Your password has been changed");
    expect((await other.get("/profile")).statusCode).toBe(303);

    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    expect((await submitPassword(new FormClient(t.app), user.login_id, user.password)).statusCode).toBe(401);
    expect((await submitPassword(new FormClient(t.app), user.login_id, NEW_PASSWORD)).statusCode).toBe(303);

    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!) && m.subject === "Your FAMOS password was changed");
    expect(mail.text).not.toContain(NEW_PASSWORD);
    const events = await queryAudit(t.deps.db, { subject: user.login_id, event: "password.changed" });
    expect(events).toHaveLength(1);
    // The other browser's device cookie is forgotten, this one's kept (the route hands its cookie on).
    expect(events[0]!.detail).toEqual({ sessionsEnded: 1, devicesForgotten: 1 });
    expect(JSON.stringify(await queryAudit(t.deps.db, { subject: user.login_id }))).not.toContain(NEW_PASSWORD);
  });

  it("refuses a wrong current password, and counts it toward the lock", async () => {
    const { user, client } = await signedInUser();
    const wrong = await client.post("/profile/password", { currentPassword: "this is not it at all", newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("The current password is not right");
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.password_hash).toBe(user.password_hash);
    // This browser holds the device cookie of its sign-in: the wrong password counts against that device.
    expect((await accountLockInfo(t.deps, user.login_key, t.clock.now())).devices.map((d) => d.failures)).toEqual([1]);
  });

  it("applies the NIST SP 800-63B policy: length, match, common passwords", async () => {
    const { user, client } = await signedInUser();
    const cases: [Record<string, string>, string][] = [
      [{ newPassword: "short", confirmNewPassword: "short" }, "at least 12 characters"],
      [{ newPassword: NEW_PASSWORD, confirmNewPassword: `${NEW_PASSWORD}!` }, "do not match"],
      [{ newPassword: "password1234", confirmNewPassword: "password1234" }, "most commonly used"],
      [{ newPassword: "x".repeat(300), confirmNewPassword: "x".repeat(300) }, "at most"],
      [{ newPassword: user.password, confirmNewPassword: user.password }, "same as the current one"],
    ];
    for (const [fields, text] of cases) {
      const response = await client.post("/profile/password", { currentPassword: user.password, ...fields });
      expect(response.statusCode, text).toBe(400);
      expect(response.body).toContain(text);
    }
    // 128 characters of any kind, spaces and emoji included, are accepted.
    const long = "ñ 🐘 ".repeat(32).slice(0, 128);
    const accepted = await client.post("/profile/password", { currentPassword: user.password, newPassword: long, confirmNewPassword: long });
    expect(accepted.statusCode).toBe(303);
  });

  it("ignores a forged user id: the form is refused and nobody's password changes", async () => {
    const victim = await addUser(t.deps);
    const { user, client } = await signedInUser();
    const forged = await client.post("/profile/password", { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD, userId: victim.id });
    expect(forged.statusCode).toBe(400);
    expect((await findUserById(t.deps.db, victim.id))!.password_hash).toBe(victim.password_hash);
    expect((await findUserById(t.deps.db, user.id))!.password_hash).toBe(user.password_hash);
  });
});
