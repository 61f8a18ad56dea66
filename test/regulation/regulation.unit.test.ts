import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const MINUTE = 60_000;

/**
 * SPEC "Locks" and "Tries" (ASVS 2.2.1, NIST SP 800-63B 5.2.2) through the sign-in forms, so they hold
 * whatever src/regulation looks like inside: a refused sign-in is the same 401 whether the password
 * was wrong or the login ID is locked, so a lock shows as the right password being refused.
 */
describe("locks, through the sign-in forms (unit tier)", () => {
  let u: UnitApp;
  let address = 0;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  /** Each attempt from its own address unless one is given, so only the login ID's counter adds up. */
  async function password(loginId: string, secret: string, ip = `198.51.100.${++address}`) {
    const client = new FormClient(u.app, ip);
    await client.get("/login");
    return (await client.post("/login", { loginId, password: secret })).statusCode;
  }

  it("refuses a login ID after 5 wrong passwords for exactly 1 minute, then doubles the next lock", async () => {
    const user = await addUser(u.deps);
    for (let i = 0; i < 4; i++) expect(await password(user.login_id, "wrong password here")).toBe(401);
    expect(await password(user.login_id, user.password)).toBe(303);
    for (let i = 0; i < 5; i++) expect(await password(user.login_id, "wrong password here")).toBe(401);
    const lockedAt = u.clock.now();
    expect(await password(user.login_id, user.password)).toBe(401);
    u.clock.set(lockedAt + MINUTE - 1);
    expect(await password(user.login_id, user.password)).toBe(401);
    u.clock.set(lockedAt + MINUTE);
    expect(await password(user.login_id, "wrong password here")).toBe(401);
    u.clock.set(lockedAt + 3 * MINUTE - 1);
    expect(await password(user.login_id, user.password)).toBe(401);
    u.clock.set(lockedAt + 3 * MINUTE);
    expect(await password(user.login_id, user.password)).toBe(303);
  });

  it("counts a login ID no account has like any other, and lowers its case", async () => {
    for (let i = 0; i < 5; i++) expect(await password(i % 2 ? "Ghost.User" : "ghost.user", "wrong password here")).toBe(401);
    const user = await addUser(u.deps, { loginId: "ghost.user" });
    expect(await password(user.login_id, user.password)).toBe(401);
    u.clock.advance(MINUTE);
    expect(await password(user.login_id, user.password)).toBe(303);
  });

  it("refuses one address failing over FAMOS_ADDRESS_LOCK_AFTER (50) login IDs to new browsers, and nobody else", async () => {
    const ip = "203.0.113.50";
    for (let i = 0; i < 50; i++) expect(await password(`sprayed-${i}`, "Summer2026!!", ip)).toBe(401);
    const user = await addUser(u.deps);
    expect(await password(user.login_id, user.password, ip)).toBe(401);
    expect(await password(user.login_id, user.password, "203.0.113.51")).toBe(303);
    u.clock.advance(MINUTE);
    expect(await password(user.login_id, user.password, ip)).toBe(303);
  }, 60_000); // 51 argon2id checks: slow on a loaded machine (and under Stryker)

  it("locks the login ID after 5 wrong codes across sign-ins (Regenerate and new sign-ins reset nothing); the run goes on after a lock; a confirmed code resets it", async () => {
    const user = await addUser(u.deps);
    const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    for (let attempt = 0; attempt < 2; attempt++) {
      const { client, code } = await signIn(u, { user, until: "otp", ip: `198.51.100.${++address}` });
      for (let i = 0; i < 2; i++) expect((await client.post("/otp", { code: wrong(code!) })).statusCode).toBe(401);
    }
    const { client, code } = await signIn(u, { user, until: "otp", ip: `198.51.100.${++address}` });
    expect((await client.post("/otp", { code: wrong(code!) })).statusCode).toBe(401);
    const locked = await client.post("/otp", { code: code! });
    expect(locked.statusCode).toBe(429);
    expect(locked.body).toContain("Too many wrong codes.");
    expect(await password(user.login_id, user.password)).toBe(401);

    // The run goes on after the lock ends: one more wrong code locks again, for 2 minutes.
    u.clock.advance(MINUTE);
    const again = await signIn(u, { user, until: "otp", ip: `198.51.100.${++address}` });
    expect((await again.client.post("/otp", { code: wrong(again.code!) })).statusCode).toBe(401);
    u.clock.advance(2 * MINUTE - 1);
    expect((await again.client.post("/otp", { code: again.code! })).statusCode).toBe(429);
    u.clock.advance(1);
    const through = await again.client.post("/otp", { code: again.code! });
    expect(through.statusCode).toBe(303);
    // After the confirmed code the run starts again from nothing: 4 more wrong codes lock nothing.
    const after = await signIn(u, { user, until: "otp", ip: `198.51.100.${++address}` });
    for (let i = 0; i < 4; i++) await after.client.post("/otp", { code: wrong(after.code!) });
    expect(await password(user.login_id, user.password)).toBe(303);
  });
});
