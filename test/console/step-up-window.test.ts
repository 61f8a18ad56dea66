import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { advanceSession } from "../../src/session/session-steps.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, type TestUser } from "../support/client.ts";

const MINUTE = 60_000;
const STEP_UP_HEADING = "Confirm it is you";
const NEW_PASSWORD = "a whole new passphrase 2027";

/**
 * Support staff work tickets all day: once the session's code is over an hour old, the console's
 * step-up password opens an hour of its own (as GitHub's sudo mode), kept on the server-side session
 * (sessions.stepped_up_at), for the console's rule only; a new session or a new token starts without it.
 */
describe.each(["sqlite", "postgres"] as const)("support console: a step-up password opens a window of its own (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  async function signInAdmin(ip = "10.2.3.4"): Promise<{ admin: TestUser; client: FormClient }> {
    const admin = await addUser(t.deps, { role: "admin" });
    const client = new FormClient(t.app, ip);
    await signInFully(client, t.smtp, admin);
    return { admin, client };
  }

  /** `minutes` pass, each client seeing a page every 25 minutes so no session idles out. */
  async function pass(minutes: number, ...clients: FormClient[]): Promise<void> {
    for (let left = minutes; left > 0; left -= 25) {
      t.clock.advance(Math.min(25, left) * MINUTE);
      for (const client of clients) expect((await client.get("/support")).statusCode).toBe(200);
    }
  }

  const locked = () => addUser(t.deps, {});
  const unlock = async (client: FormClient, user: TestUser, fields: Record<string, string> = {}) => {
    await client.get(`/support/users/${user.id}`);
    return client.post(`/support/users/${user.id}/unlock`, fields);
  };

  it("the right password lets the next changes through for an hour from it, then asks again", async () => {
    const { admin, client } = await signInAdmin();
    await pass(61, client);
    const asked = await unlock(client, await locked());
    expect(asked.body).toContain("Enter your password to carry out this change; for 1 hour afterwards, your changes will not ask for it again.");
    expect((await unlock(client, await locked(), { stepUpPassword: admin.password })).statusCode).toBe(303);
    expect((await unlock(client, await locked())).statusCode).toBe(303);
    await pass(59, client);
    const other = await addUser(t.deps, { email: "kept.open@dealer.example" });
    await client.get(`/support/users/${other.id}`);
    const reset = await client.post(`/support/users/${other.id}/reset/confirm`, { name: other.full_name, loginId: other.login_id, partnerNumber: other.partner_number, ticket: "INC7" });
    expect(reset.statusCode).toBe(303);
    expect((await findUserById(t.deps.db, other.id))!.otp_email).toBeNull();
    await pass(2, client);
    const stale = await unlock(client, await locked());
    expect(stale.statusCode).toBe(401);
    expect(stale.body).toContain(STEP_UP_HEADING);
  });

  it("a wrong password opens nothing", async () => {
    const { client } = await signInAdmin();
    await pass(61, client);
    expect((await unlock(client, await locked(), { stepUpPassword: "not it" })).statusCode).toBe(401);
    expect((await unlock(client, await locked())).statusCode).toBe(401);
  });

  it("is the session's own: the same person's other session, as old, is still asked", async () => {
    const { admin, client } = await signInAdmin();
    const second = new FormClient(t.app, "10.2.3.5");
    await signInFully(second, t.smtp, admin);
    await pass(61, client, second);
    expect((await unlock(client, await locked(), { stepUpPassword: admin.password })).statusCode).toBe(303);
    expect((await unlock(second, await locked())).statusCode).toBe(401);
  });

  it("is the console's only: Profile still asks its password for a sensitive change", async () => {
    const { admin, client } = await signInAdmin();
    await pass(61, client);
    expect((await unlock(client, await locked(), { stepUpPassword: admin.password })).statusCode).toBe(303);
    await client.get("/profile");
    const asked = await client.post("/profile/email", { newEmail: "elsewhere@dealer.example", confirmNewEmail: "elsewhere@dealer.example" });
    expect(asked.statusCode).toBe(401);
  });

  it("a changed password (a new token) starts without it", async () => {
    const { admin, client } = await signInAdmin();
    await pass(61, client);
    expect((await unlock(client, await locked(), { stepUpPassword: admin.password })).statusCode).toBe(303);
    await client.get("/profile");
    const changed = await client.post("/profile/password", { currentPassword: admin.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD });
    expect(changed.statusCode).toBe(303);
    expect((await unlock(client, await locked())).statusCode).toBe(401);
  });

  /**
   * Red team, 2026-12-07: the code a new OTP email's confirmation asks for proves only that whoever
   * holds the session reads that address, which they have just typed themselves. Whoever held a
   * cookie within the window could change the address to one mailbox of their own, then another, and
   * stay "fresh" for the console and Profile until the session's end (12 h) without ever the password.
   */
  it("a new OTP email's code opens no window: it still runs from the sign-in's code, for the console and for Profile", async () => {
    const { client } = await signInAdmin();
    await pass(10, client);
    await client.get("/profile");
    const before = t.smtp.messages.length;
    const started = await client.post("/profile/email", { newEmail: "own.box@dealer.example", confirmNewEmail: "own.box@dealer.example" });
    expect(started.statusCode).toBe(303);
    const code = await nextCode(t.smtp, "own.box@dealer.example", before);
    expect((await client.post("/profile/email/confirm", { code })).headers.location).toBe("/profile?done=email-changed");
    // 20 minutes after the sign-in's code, 10 after the new address's: Profile asks its password again.
    await pass(10, client);
    await client.get("/profile");
    const again = await client.post("/profile/email", { newEmail: "next.box@dealer.example", confirmNewEmail: "next.box@dealer.example" });
    expect(again.statusCode).toBe(401);
    // 61 minutes after the sign-in's code, 51 after the new address's: the console asks its password again.
    await pass(41, client);
    const asked = await unlock(client, await locked());
    expect(asked.statusCode).toBe(401);
    expect(asked.body).toContain(STEP_UP_HEADING);
  });

  it("advanceSession (every new token: a step of the sign-in, a password change) clears it", async () => {
    const { admin } = await signInAdmin();
    const row = await t.deps.db.selectFrom("sessions").selectAll().where("user_id", "=", admin.id).where("ended_at", "is", null).executeTakeFirstOrThrow();
    await t.deps.db.updateTable("sessions").set({ stepped_up_at: t.clock.now() }).where("id", "=", row.id).execute();
    const moved = await advanceSession(t.deps.db, t.deps.random, { ...row, stepped_up_at: t.clock.now() }, t.clock.now(), { stage: "full", flowId: null });
    expect(moved!.session.stepped_up_at).toBeNull();
    const stored = await t.deps.db.selectFrom("sessions").select("stepped_up_at").where("id", "=", row.id).executeTakeFirstOrThrow();
    expect(stored.stepped_up_at).toBeNull();
  });
});
