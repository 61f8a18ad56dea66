import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { argon2Computations } from "../../src/password/hash.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { atCode, otherCode } from "./helpers.ts";

const MINUTE = 60_000;
const NEW_PASSWORD = "a brand new password 9";

/** An account locked until support unlocks it just now, by 6 wrong codes after its right password (the 6th also pausing it for 2 minutes). */
async function lockedUntilUnlocked(t: TestApp, ip: string) {
  const { client, code, user } = await atCode(t, undefined, ip);
  for (let i = 1; i <= 5; i += 1) await client.post("/otp", { code: otherCode(code, i) });
  t.clock.advance(MINUTE);
  await client.post("/otp", { code: otherCode(code, 6) });
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

/** A stranger's wrong code at the reset's code step for this login ID, as the stranger sees the answer. */
async function wrongResetCode(t: TestApp, loginId: string, ip: string) {
  const client = new FormClient(t.app, ip);
  await client.get("/forgot-password");
  await client.post("/forgot-password", { loginId });
  await client.get("/forgot-password/code");
  const answer = await client.post("/forgot-password/code", { code: "123456", newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD });
  return { status: answer.statusCode, body: answer.body.replace(/name="_csrf" value="[^"]*"/g, "") };
}

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
    const user = await lockedUntilUnlocked(t, "203.0.113.70");
    t.clock.advance(24 * 60 * MINUTE);
    return user;
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
    const unknown = await wrongResetCode(t, `zz-${user.login_id}`, "198.51.100.41");
    expect(unknown.status).toBe(400);
    expect(await wrongResetCode(t, user.login_id, "198.51.100.42")).toEqual(unknown);
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

/**
 * The hard lock is reached by a wrong code that also sets a timed lock (lockUntil of the
 * 100th failure: FAMOS_LOCK_MAX, 1 h by default; here the 6th: 2 min). With the code counter in the
 * password and reset steps' `timed` list, for that tail a stranger who knows nothing but the login ID
 * was refused unverified ("paused … until") where an unknown login ID is answered "wrong" (red 4 of 4);
 * so was any code pause (FAMOS_LOCK_AFTER wrong codes). The tests above advance 24 h, past the tail.
 */
describe("the hard lock's own timed tail", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_CODE_HARD_LOCK: "6", FAMOS_OTP_TRIES: "10", FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => t.close());

  async function hardLockedJustNow(ip: string) {
    const user = await lockedUntilUnlocked(t, ip);
    const row = await t.deps.db.selectFrom("throttles").selectAll().where("hard_locked", "=", 1).orderBy("updated_at", "desc").executeTakeFirstOrThrow();
    expect(row.locked_until).toBeGreaterThan(t.clock.now()); // the tail
    t.clock.advance(MINUTE); // still inside it (2 min at the 6th failure; 1 h with the defaults)
    return user;
  }

  it("password step: a wrong password for it is answered as for an unknown login ID", async () => {
    const user = await hardLockedJustNow("203.0.113.80");
    const unknown = observable(await submitPassword(new FormClient(t.app, "192.0.2.110"), `zz-${user.login_id}`, "some password here"), `zz-${user.login_id}`);
    const known = observable(await submitPassword(new FormClient(t.app, "192.0.2.111"), user.login_id, "some password here"), user.login_id);
    expect(known).toEqual(unknown);
  });

  it("password step: the owner's right password is told the lock until support unlocks, not a pause that ends", async () => {
    const user = await hardLockedJustNow("203.0.113.81");
    const right = await submitPassword(new FormClient(t.app, "192.0.2.112"), user.login_id, user.password);
    expect(right.body).not.toContain("paused on new browsers until");
    expect(right.body).toContain("until your retail IT team unlocks it");
    // Audited as the refusal it is, with the one thing support needs to know: someone had the password.
    const audited = await t.deps.db.selectFrom("audit").select(["event", "subject", "detail"]).where("event", "=", "password.failed").where("detail", "like", "%rightPassword%").execute();
    expect(audited.map((a) => ({ ...a, detail: JSON.parse(a.detail) as unknown }))).toEqual([
      { event: "password.failed", subject: user.login_id, detail: { reason: "locked", pause: "login-id", rightPassword: true } },
    ]);
  });

  it("reset code step: a wrong code for it is answered as for an unknown login ID", async () => {
    const user = await hardLockedJustNow("203.0.113.82");
    const unknown = await wrongResetCode(t, `zz-${user.login_id}`, "198.51.100.51");
    expect(await wrongResetCode(t, user.login_id, "198.51.100.52")).toEqual(unknown);
  });

  it("any code pause: 5 wrong codes after the right password, then a stranger's wrong password", async () => {
    const { client, code, user } = await atCode(t, undefined, "203.0.113.83");
    for (let i = 1; i <= 5; i += 1) await client.post("/otp", { code: otherCode(code, i) });
    const unknown = observable(await submitPassword(new FormClient(t.app, "192.0.2.113"), `zz-${user.login_id}`, "some password here"), `zz-${user.login_id}`);
    const known = observable(await submitPassword(new FormClient(t.app, "192.0.2.114"), user.login_id, "some password here"), user.login_id);
    expect(known).toEqual(unknown);
  });
});
