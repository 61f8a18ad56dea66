import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { argon2Computations } from "../../src/password/hash.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { atCode, otherCode } from "./helpers.ts";

const MINUTE = 60_000;
const NEW_PASSWORD = "a brand new password 9";

/**
 * SPEC item 1 ("a wrong login ID, a wrong password and a locked account give the same answer") against
 * the one lock no unknown login ID can ever have: the lock until support unlocks, which only wrong
 * second-factor codes start, and those only after the right password. Told to whoever typed the login
 * ID, before its password was checked, it named a real account (and one whose password someone has) to
 * a stranger who knew nothing but the login ID. Now the password is checked (and a wrong one counted) as
 * for any account first; only the right password hears of the lock.
 */
describe("a login ID locked until support unlocks tells a stranger nothing", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_CODE_HARD_LOCK: "6", FAMOS_OTP_TRIES: "10", FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => t.close());

  /** An account whose sign-in is locked until support unlocks it (6 wrong codes), a day later. */
  async function hardLocked() {
    const { client, code, user } = await atCode(t, undefined, "203.0.113.70");
    for (let i = 1; i <= 5; i += 1) await client.post("/otp", { code: otherCode(code, i) });
    t.clock.advance(MINUTE);
    await client.post("/otp", { code: otherCode(code, 6) });
    t.clock.advance(24 * 60 * MINUTE);
    return user;
  }

  /** What a stranger observes, the per-answer random parts (CSRF token, the login ID echoed) blanked. */
  function observable(response: LightMyRequestResponse, loginId: string) {
    const headers: Record<string, unknown> = { ...response.headers };
    for (const h of ["date", "content-length", "set-cookie"]) delete headers[h];
    return {
      status: response.statusCode,
      headers,
      body: response.body.replace(/name="_csrf" value="[^"]*"/g, "").replaceAll(loginId, "LOGIN"),
      cookies: (response.cookies as Array<Record<string, unknown>>).map(({ value: _value, ...attributes }) => attributes),
    };
  }

  async function signInAs(loginId: string, password: string, ip: string) {
    const before = argon2Computations();
    const answer = observable(await submitPassword(new FormClient(t.app, ip), loginId, password), loginId);
    return { answer, cost: argon2Computations() - before };
  }

  it("ASVS 2.2.1: a wrong password for it gets the unknown login ID's answer at the same cost; the right one is told of the lock and gets no code", async () => {
    const user = await hardLocked();
    await signInAs("hard-warm-up", "some password here", "192.0.2.99");
    const unknown = await signInAs(`zz-${user.login_id}`, "some password here", "192.0.2.100");
    expect(unknown.answer.status).toBe(401);
    expect(unknown.cost).toBe(1);
    expect(await signInAs(user.login_id, "some password here", "192.0.2.101")).toEqual(unknown);

    const since = t.clock.now();

    const right = await submitPassword(new FormClient(t.app, "192.0.2.102"), user.login_id, user.password);
    expect(right.statusCode).toBe(401);
    expect(right.body).toContain("until your retail IT team unlocks it");
    const sessions = await t.deps.db.selectFrom("sessions").select("id").where("user_id", "=", user.id).where("created_at", ">=", since).execute();
    expect(sessions).toEqual([]);
    expect(await t.deps.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).where("created_at", ">=", since).execute()).toEqual([]);
  });

  it("SPEC Locks: a stranger's wrong passwords for it are counted and pause it as an unknown login ID's are; the right password then meets that pause", async () => {
    const user = await hardLocked();
    const unknownId = `zz-${user.login_id}`;
    const statuses: Array<[number, number]> = [];
    for (let i = 0; i < 6; i += 1) {
      const a = await signInAs(unknownId, `guess ${i}`, "198.51.100.31");
      const b = await signInAs(user.login_id, `guess ${i}`, "198.51.100.32");
      expect(b.answer, `attempt ${i}`).toEqual(a.answer);
      statuses.push([a.cost, b.cost]);
    }
    // Five verified each, the sixth refused by the pause without one.
    expect(statuses).toEqual([[1, 1], [1, 1], [1, 1], [1, 1], [1, 1], [0, 0]]);
    const right = await submitPassword(new FormClient(t.app, "198.51.100.33"), user.login_id, user.password);
    expect(right.body).toContain("paused on new browsers until");
  });

  it("SPEC item 1 / ASVS 2.2.1: the self-service reset's code step answers a wrong code for it as for an unknown login ID", async () => {
    const user = await hardLocked();
    const reset = async (loginId: string, ip: string) => {
      const client = new FormClient(t.app, ip);
      await client.get("/forgot-password");
      await client.post("/forgot-password", { loginId });
      await client.get("/forgot-password/code");
      const answer = await client.post("/forgot-password/code", { code: "123456", newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD });
      return { status: answer.statusCode, body: answer.body.replace(/name="_csrf" value="[^"]*"/g, "") };
    };
    const unknown = await reset(`zz-${user.login_id}`, "198.51.100.41");
    expect(unknown.status).toBe(400);
    expect(await reset(user.login_id, "198.51.100.42")).toEqual(unknown);
  });

  it("SPEC Locks: a reset code mailed before the lock, typed right after it, is told of the lock and sets no password", async () => {
    const { client: signInTab, code, user } = await atCode(t, undefined, "203.0.113.71");
    const resetTab = new FormClient(t.app, "203.0.113.72");
    await resetTab.get("/forgot-password");
    const mark = await t.mailbox.mark();
    await resetTab.post("/forgot-password", { loginId: user.login_id });
    const resetCode = await t.mailbox.code(user.otp_email!, mark);
    for (let i = 1; i <= 5; i += 1) await signInTab.post("/otp", { code: otherCode(code, i) });
    t.clock.advance(MINUTE);
    await signInTab.post("/otp", { code: otherCode(code, 6) });
    t.clock.advance(2 * MINUTE);
    const hashBefore = (await t.deps.db.selectFrom("users").select("password_hash").where("id", "=", user.id).executeTakeFirstOrThrow()).password_hash;
    await resetTab.get("/forgot-password/code");
    const answer = await resetTab.post("/forgot-password/code", { code: resetCode, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD });
    expect(answer.statusCode).toBe(429);
    expect(answer.body).toContain("locked until your retail IT team unlocks it");
    const hashAfter = (await t.deps.db.selectFrom("users").select("password_hash").where("id", "=", user.id).executeTakeFirstOrThrow()).password_hash;
    expect(hashAfter).toBe(hashBefore);
  });
});
