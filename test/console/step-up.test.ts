import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp, type TestUserInput } from "../support/app.ts";
import { FormClient, signInFully, type TestUser } from "../support/client.ts";

const MINUTE = 60_000;
const STEP_UP_HEADING = "Confirm it is you";

/**
 * A stolen support cookie must not reset enrolments at scale: a console action that changes another
 * account's access asks for the password again once the session's code is over an hour old
 * (CONSOLE_RECENT_CODE_MS), counted toward the same locks as Profile's re-entry.
 */
describe.each(["sqlite", "postgres"] as const)("support console: step-up before actions on others' access (%s)", (database) => {
  let t: TestApp;
  let admin: TestUser;
  let client: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  /** A fresh administrator signed in with a code now (each test gets its own session and counters). */
  async function signInAdmin(): Promise<void> {
    admin = await addUser(t.deps, { role: "admin" });
    client = new FormClient(t.app, "10.2.2.2");
    await signInFully(client, t.smtp, admin);
  }

  /** `minutes` pass, with a page seen every 25 minutes so the session never idles out (FAMOS_SESSION_IDLE 30m). */
  async function pass(minutes: number): Promise<void> {
    for (let left = minutes; left > 0; left -= 25) {
      t.clock.advance(Math.min(25, left) * MINUTE);
      expect((await client.get("/support")).statusCode).toBe(200);
    }
  }

  async function target(input: TestUserInput = {}) {
    return addUser(t.deps, { fullName: "Jane Smith", partnerNumber: "01234", ...input });
  }
  const identity = (user: TestUser) => ({ name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC42" });

  it("right after a sign-in with a code the reset is done at once, with no extra screen; 59 minutes on, still", async () => {
    await signInAdmin();
    const first = await target({ email: "first@dealer.example" });
    await client.get(`/support/users/${first.id}`);
    const now = await client.post(`/support/users/${first.id}/reset/confirm`, identity(first));
    expect(now.statusCode).toBe(303);
    expect((await findUserById(t.deps.db, first.id))!.otp_email).toBeNull();
    await pass(59);
    const second = await target({ email: "second@dealer.example" });
    await client.get(`/support/users/${second.id}`);
    expect((await client.post(`/support/users/${second.id}/reset/confirm`, identity(second))).statusCode).toBe(303);
    expect(await queryAudit(t.deps.db, { event: "console.step-up-passed", subject: admin.login_id })).toHaveLength(0);
  });

  it("an hour after the code, the reset asks for the password on a page of its own that keeps the form, changes nothing, then does it with the right password", async () => {
    await signInAdmin();
    const user = await target({ email: "keep@dealer.example" });
    await pass(61);
    await client.get(`/support/users/${user.id}`);
    const asked = await client.post(`/support/users/${user.id}/reset/confirm`, identity(user));
    expect(asked.statusCode).toBe(401);
    expect(asked.body).toContain(STEP_UP_HEADING);
    expect(asked.body).toContain(`<form method="post" action="/support/users/${user.id}/reset/confirm"`);
    expect(asked.body).toMatch(/<label for="stepUpPassword">Password<\/label>/);
    expect(asked.body).toMatch(/<input type="password" id="stepUpPassword" name="stepUpPassword" autocomplete="current-password"[^>]* required/);
    expect(asked.body).toContain('<input type="hidden" name="ticket" value="INC42">');
    expect(asked.body).toContain(`<input type="hidden" name="loginId" value="${user.login_id}">`);
    expect(asked.body).toContain('name="_csrf"');
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("keep@dealer.example");

    const wrong = await client.post(`/support/users/${user.id}/reset/confirm`, { ...identity(user), stepUpPassword: "not the password" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("The password is not right.");
    expect(wrong.body).toContain('aria-invalid="true"');
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("keep@dealer.example");
    const failed = await queryAudit(t.deps.db, { event: "console.step-up-failed", subject: admin.login_id });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.detail).toMatchObject({ action: `POST /support/users/:id/reset/confirm` });
    // Counted as every password is: the sign-in's own audit of a wrong password, "during" the console's step-up.
    const wrongPassword = await queryAudit(t.deps.db, { event: "password.failed", subject: admin.login_id });
    expect(wrongPassword.map((e) => e.detail.during)).toContain("console-step-up");

    // Without its token the form is refused as any other (CSRF protection stays).
    const forged = await client.post(`/support/users/${user.id}/reset/confirm`, { ...identity(user), stepUpPassword: admin.password }, { csrf: false });
    expect(forged.statusCode).toBe(403);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("keep@dealer.example");

    await client.get(`/support/users/${user.id}`);
    const right = await client.post(`/support/users/${user.id}/reset/confirm`, { ...identity(user), stepUpPassword: admin.password });
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toBe(`/support/users/${user.id}?done=reset`);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBeNull();
    expect(await queryAudit(t.deps.db, { event: "console.step-up-passed", subject: admin.login_id })).toHaveLength(1);
  });

  it("wrong passwords there count toward the same locks as Profile's: paused, the right one is refused too (429)", async () => {
    await signInAdmin();
    const user = await target({ email: "locked.out@dealer.example" });
    await pass(61);
    await client.get(`/support/users/${user.id}`);
    let answer = await client.post(`/support/users/${user.id}/unlock`, {});
    for (let i = 0; i < 30 && answer.statusCode !== 429; i += 1) answer = await client.post(`/support/users/${user.id}/unlock`, { stepUpPassword: `wrong ${i}` });
    expect(answer.statusCode).toBe(429);
    const right = await client.post(`/support/users/${user.id}/unlock`, { stepUpPassword: admin.password });
    expect(right.statusCode).toBe(429);
    expect(right.body).toContain('id="stepUpPassword"');
    expect(await queryAudit(t.deps.db, { event: "unlock", subject: user.login_id })).toHaveLength(0);
  });

  it("every action on another account's access or protections asks for it when stale; posting a notice does not", async () => {
    await signInAdmin();
    const user = await target({ email: "many@dealer.example" });
    await pass(61);
    await client.get(`/support/users/${user.id}`);
    const asks: [string, Record<string, string>][] = [
      [`/support/users/${user.id}/reset/confirm`, identity(user)],
      [`/support/users/${user.id}/temporary-password/confirm`, identity(user)],
      [`/support/users/${user.id}/factors/confirm`, { ticket: "INC42" }],
      [`/support/users/${user.id}/role`, { role: "support" }],
      [`/support/users/${user.id}/disable`, {}],
      [`/support/users/${user.id}/enable`, {}],
      [`/support/users/${user.id}/keep-disabled`, {}],
      [`/support/users/${user.id}/unlock`, {}],
      ["/support/users/new", { loginId: "created.by.thief", fullName: "A Thief", partnerNumber: "1", role: "admin", email: "thief@evil.example" }],
      ["/support/addresses/unlock", { address: "192.0.2.1" }],
      ["/support/rollout/plan", { partner: "", from: "2027-01-01" }],
      ["/support/rollout/plan/remove", { partner: "" }],
    ];
    for (const [url, fields] of asks) {
      const answer = await client.post(url, fields);
      expect(answer.statusCode, url).toBe(401);
      expect(answer.body, url).toContain(STEP_UP_HEADING);
    }
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.otp_email).toBe("many@dealer.example");
    expect(stored.role).toBe("user");
    expect(stored.disabled_at).toBeNull();
    expect(await queryAudit(t.deps.db, { subject: "created.by.thief" })).toHaveLength(0);

    await client.get("/support/notices");
    const notice = await client.post("/support/notices", { title: "Maintenance", body: "Tonight." });
    expect(notice.statusCode).toBe(303);
  });

  it("the step-up page speaks the reader.s language (German)", async () => {
    await signInAdmin();
    await t.deps.db.updateTable("users").set({ locale: "de" }).where("id", "=", admin.id).execute();
    const user = await target();
    await pass(61);
    await client.get(`/support/users/${user.id}`);
    const asked = await client.post(`/support/users/${user.id}/unlock`, {});
    expect(asked.statusCode).toBe(401);
    expect(asked.body).not.toContain(STEP_UP_HEADING);
    expect(asked.body).toContain('lang="de"');
  });
});
