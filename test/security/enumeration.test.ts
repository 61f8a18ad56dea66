import { loginCounterKey } from "../support/login-counter.ts";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { argon2Computations } from "../../src/password/hash.ts";
import { FormClient, submitPassword } from "../support/client.ts";

/**
 * SPEC item 1 and "Locks": an unknown login ID, a wrong password and a locked account give the same
 * answer (OWASP Authentication Cheat Sheet, "Authentication and Error Messages"; ASVS 2.2.1 asks that
 * lockout not become an oracle). Timing is measured by `npm run check:timing`; here, counted rather than
 * timed, that an unknown login ID costs one argon2id verification as a wrong password does.
 */
describe("no account enumeration at sign in", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** What a stranger can observe, with the per-response random parts (CSRF token, typed login ID) blanked. */
  function observable(response: LightMyRequestResponse, loginId: string) {
    const headers = { ...response.headers };
    for (const h of ["date", "content-length", "set-cookie"]) delete headers[h];
    return {
      status: response.statusCode,
      headers,
      body: response.body.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value=""').replaceAll(loginId, "LOGIN"),
      cookies: (response.cookies as Array<Record<string, unknown>>).map(({ value: _value, ...attributes }) => attributes),
    };
  }

  async function attempt(loginId: string, password: string, ip: string) {
    return observable(await submitPassword(new FormClient(t.app, ip), loginId, password), loginId);
  }

  it("ASVS 2.2.1: unknown login ID and wrong password look the same; a locked account and a locked unknown ID look the same: status, headers, body, cookies", async () => {
    const known = await addUser(t.deps, { loginId: "enum-known-1" });
    const locked = await addUser(t.deps, { loginId: "enum-lockd-1" });
    // Lock one account and one unknown login ID from elsewhere, so the observer's own address is not locked.
    for (let i = 0; i < 5; i += 1) await submitPassword(new FormClient(t.app, "203.0.113.66"), locked.login_id, `wrong guess ${i}`);
    for (let i = 0; i < 5; i += 1) await submitPassword(new FormClient(t.app, "203.0.113.66"), "enum-nolck-1", `wrong guess ${i}`);

    const unknown = await attempt("enum-nobody", "some password here", "192.0.2.10");
    const wrong = await attempt(known.login_id, "some password here", "192.0.2.11");
    const lockedWrong = await attempt(locked.login_id, "some password here", "192.0.2.12");
    const lockedRight = await attempt(locked.login_id, locked.password, "192.0.2.13");
    const lockedUnknown = await attempt("enum-nolck-1", "some password here", "192.0.2.14");

    expect(unknown.status).toBe(401);
    expect(wrong).toEqual(unknown);
    // A pause is told (issue 10.3) in words that depend on the login ID as typed only, never on the account.
    expect(lockedUnknown.status).toBe(401);
    expect(lockedUnknown.body).toContain("paused on new browsers until");
    expect(lockedWrong).toEqual(lockedUnknown);
    expect(lockedRight).toEqual(lockedUnknown);
    // The locked account really was refused with its right password, and got no session.
    const sessions = await t.deps.db.selectFrom("sessions").select("id").where("user_id", "=", locked.id).execute();
    expect(sessions).toEqual([]);
  });

  it("SPEC item 1 (same time): an unknown login ID costs the server one argon2id verification, as a wrong password does", async () => {
    // Counted, not timed (npm run check:timing measures the time): without the unknown login ID's dummy
    // verification (burnPasswordCheck) its answer comes about ten times sooner, which a stranger
    // measures over the network.
    const users = await Promise.all([1, 2, 3].map((i) => addUser(t.deps, { loginId: `enum-time-${i}` })));
    const costs = async (loginId: string, ip: string) => {
      const client = new FormClient(t.app, ip);
      await client.get("/login");
      const before = argon2Computations();
      expect((await client.post("/login", { loginId, password: "some password here" })).statusCode).toBe(401);
      return argon2Computations() - before;
    };
    // The first dummy verification also makes its hash, once per process.
    await costs("enum-time-warm-up", "192.0.2.59");
    for (const [i, user] of users.entries()) {
      expect([user.login_id, await costs(user.login_id, `192.0.2.${40 + i}`)]).toEqual([user.login_id, 1]);
      expect([i, await costs(`enum-time-nobody-${i}`, `192.0.2.${60 + i}`)]).toEqual([i, 1]);
    }
  });

  it("SPEC item 1 / issue 11: a disabled account, right password or not, gives the unknown login ID's answer at the same cost (one argon2id verification)", async () => {
    const leaver = await addUser(t.deps, { loginId: "enum-leaver-1" });
    await t.deps.db.updateTable("users").set({ disabled_at: t.clock.now() }).where("id", "=", leaver.id).execute();
    const observed = async (loginId: string, password: string, ip: string) => {
      const client = new FormClient(t.app, ip);
      await client.get("/login");
      const before = argon2Computations();
      const answer = observable(await client.post("/login", { loginId, password }), loginId);
      return { answer, cost: argon2Computations() - before };
    };
    await observed("enum-leaver-warm-up", "some password here", "192.0.2.79");
    const unknown = await observed("enum-leaver-nobody", "some password here", "192.0.2.80");
    expect(unknown.answer.status).toBe(401);
    expect(unknown.cost).toBe(1);
    expect(await observed(leaver.login_id, "some password here", "192.0.2.81")).toEqual(unknown);
    expect(await observed(leaver.login_id, leaver.password, "192.0.2.82")).toEqual(unknown);
    expect(await t.deps.db.selectFrom("sessions").select("id").where("user_id", "=", leaver.id).execute()).toEqual([]);
  });

  it("ASVS 2.2.1: a login ID that no account has is locked on the same schedule as one that exists", async () => {
    const known = await addUser(t.deps, { loginId: "enum-known-2" });
    const outcomes: Array<[number, number]> = [];
    for (let i = 0; i < 6; i += 1) {
      const a = await submitPassword(new FormClient(t.app, "198.51.100.1"), "enum-nobody-2", `guess ${i}`);
      const b = await submitPassword(new FormClient(t.app, "198.51.100.2"), known.login_id, `guess ${i}`);
      outcomes.push([a.statusCode, b.statusCode]);
    }
    expect(outcomes.every(([a, b]) => a === 401 && b === 401)).toBe(true);
    // Each login ID is counted under its keyed digest (src/users/login-digest.ts), known or not.
    const counted = new Map(["enum-known-2", "enum-nobody-2"].map((loginId) => [loginCounterKey("password", loginId), loginId]));
    const rows = await t.deps.db.selectFrom("throttles").select(["key", "failures"]).where("key", "in", [...counted.keys()]).execute();
    // The sixth attempt of each was refused by the lock, uncounted: 5 each.
    expect(rows.map((r) => ({ key: counted.get(r.key), failures: r.failures })).sort((a, b) => a.key!.localeCompare(b.key!))).toEqual([
      { key: "enum-known-2", failures: 5 },
      { key: "enum-nobody-2", failures: 5 },
    ]);
  });
});
