import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { attemptFailed, attemptSucceeded, reserveAttempt, type Subject } from "../../src/regulation/throttle.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp } from "../support/client.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";

const MINUTE = 60_000;
const SETTINGS = { lock: { after: 5, baseMs: MINUTE, maxMs: 60 * MINUTE, codeHardLock: 100 }, address: { lockAfter: 50, windowMs: 15 * MINUTE, trustedNetworks: [] as string[] }, deviceLockAfter: 10 };
const IN_FLIGHT = "Too many sign-ins with this login ID are being checked at once";
const AFTER_FAILURES = "after repeated failures";

/**
 * Each attempt is counted before its password is verified (regulation/counter.ts), so a burst of
 * sign-ins with the RIGHT password meets the lock its own unsettled counts put in force. That refusal
 * must say what is true — too many at once, try again in a moment — and be audited apart, while the
 * lock itself refuses exactly as before (test/security/burst.test.ts, brute-force.test.ts).
 */
describe.each(DIALECTS)("a refusal by attempts still being verified (%s)", (dialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, "in_flight");
  });
  afterAll(async () => t.close());
  let n = 0;
  const subject = (): Subject => ({ loginKey: `in-flight-${++n}`, ip: `198.51.100.${n}` });

  it("is told apart from a lock earned by failures; once the attempt that started it is found wrong, it is a lock", async () => {
    const db = t.deps[0]!.db;
    const s = subject();
    const now = t.clock.now();
    const held = [];
    for (let i = 0; i < 5; i += 1) {
      const r = await reserveAttempt(db, "password", s, now, SETTINGS);
      if (!r.ok) throw new Error("reservation refused");
      held.push(r);
    }
    // Five attempts in flight, none settled: the lock is theirs, not a record of failures.
    expect(await reserveAttempt(db, "password", s, now, SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: now + MINUTE, inFlight: true } });
    // The fifth, which started the lock, turns out wrong: now the lock stands on a failure.
    await attemptFailed(db, held[4]!, now);
    expect(await reserveAttempt(db, "password", s, now, SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: now + MINUTE } });
    // A right one among the others still ends the run (unchanged).
    await attemptSucceeded(db, held[0]!);
    expect((await reserveAttempt(db, "password", s, now, SETTINGS)).ok).toBe(true);
  });

  it("a lock that ran out and is started again by one attempt in flight is that attempt's, not the failures'", async () => {
    const db = t.deps[0]!.db;
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 5; i += 1) {
      const r = await reserveAttempt(db, "password", s, now, SETTINGS);
      if (!r.ok) throw new Error("reservation refused");
      await attemptFailed(db, r, now);
    }
    const later = now + MINUTE;
    const sixth = await reserveAttempt(db, "password", s, later, SETTINGS);
    expect(sixth.ok).toBe(true);
    expect(await reserveAttempt(db, "password", s, later, SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: later + 2 * MINUTE, inFlight: true } });
    if (sixth.ok) await attemptFailed(db, sixth, later);
    expect(await reserveAttempt(db, "password", s, later, SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: later + 2 * MINUTE } });
  });
});

describe.each(DIALECTS)("16 sign-ins with the right password at once, over real HTTP (%s)", (dialect) => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it("each refused one says too many at once (not repeated failures), is audited `in-flight`, and leaves no lock", async () => {
    const t = await createTestApp({ database: dialect });
    apps.push(t);
    const user = await addUser(t.deps);
    const target = overHttp(await listen(t));
    const clients = Array.from({ length: 16 }, () => new FormClient(target));
    await Promise.all(clients.map((c) => c.get("/login")));

    const answers = await Promise.all(clients.map((c) => c.post("/login", { loginId: user.login_id, password: user.password })));
    const refused = answers.filter((r) => r.statusCode !== 303);
    // The burst meets its own reservations (FAMOS_LOCK_AFTER of them at once), so some are refused.
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((r) => r.statusCode === 303).every((r) => r.headers.location === "/otp")).toBe(true);
    for (const r of refused) {
      expect(r.body).toContain(IN_FLIGHT);
      expect(r.body).not.toContain(AFTER_FAILURES);
    }
    const failed = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "password.failed").where("subject", "=", user.login_key).execute();
    expect(failed.map((row) => (JSON.parse(row.detail) as { reason: string }).reason)).toEqual(refused.map(() => "in-flight"));
    expect(await t.deps.db.selectFrom("audit").select("id").where("event", "=", "lock.started").execute()).toEqual([]);
    // No lock is left: the next sign-in from a new browser goes through.
    const next = new FormClient(target);
    await next.get("/login");
    expect((await next.post("/login", { loginId: user.login_id, password: user.password })).headers.location).toBe("/otp");
  });
});
