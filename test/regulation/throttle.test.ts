import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressKey } from "../../src/regulation/address.ts";
import { lockDuration, lockState, loginLockInfo, recordFailure, recordSuccess, unlockLogin, type Subject } from "../../src/regulation/throttle.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LOCK = { after: 5, baseMs: MINUTE, maxMs: HOUR, codeHardLock: 100 };

describe("lock schedule (SPEC Locks; NIST SP 800-63B 5.2.2)", () => {
  it("locks after 5 consecutive failures for 1 minute, doubling with each further failure, at most 1 hour", () => {
    expect([1, 2, 3, 4].map((n) => lockDuration(n, LOCK))).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8, 9, 10, 11, 12, 50].map((n) => lockDuration(n, LOCK) / MINUTE)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it("counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:db8:1:2:ffff:1:2:3"));
    expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:3::1")).not.toBe(addressKey("2001:db8:1:2::1"));
    expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe.each(DIALECTS)("regulation in the database (%s)", (dialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 2, "regulation");
  });
  afterAll(async () => t.close());
  const db = (i = 0) => t.deps[i % 2]!.db;
  let n = 0;
  const subject = (ip = `198.51.100.${++n}`): Subject => ({ loginKey: `login-${++n}`, ip });

  it("ASVS 2.2.1: refuses the login ID once 5 failures are counted, and ends the lock exactly on time, without sleeping", async () => {
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 4; i += 1) expect((await recordFailure(db(i), "password", s, now, LOCK)).lockStarted).toBe(false);
    expect(await lockState(db(), s, now)).toMatchObject({ locked: false });
    const fifth = await recordFailure(db(), "password", s, now, LOCK);
    expect(fifth).toMatchObject({ lockStarted: true, failures: 5, lockedUntil: now + MINUTE, hardLocked: false });
    // Another instance sees it: the state is in the database.
    expect(await lockState(db(1), s, now)).toEqual({ locked: true, until: now + MINUTE });
    expect(await lockState(db(1), s, now + MINUTE - 1)).toEqual({ locked: true, until: now + MINUTE });
    expect(await lockState(db(1), s, now + MINUTE)).toMatchObject({ locked: false });
    // Reading the lock again and again does not extend it.
    for (let i = 0; i < 10; i += 1) await lockState(db(i), s, now + 30_000);
    expect(await lockState(db(), s, now + MINUTE)).toMatchObject({ locked: false });
    // The next failure after the lock doubles it.
    const sixth = await recordFailure(db(), "password", s, now + MINUTE, LOCK);
    expect(sixth).toMatchObject({ lockStarted: true, failures: 6, lockedUntil: now + 3 * MINUTE });
  });

  it("counts wrong passwords and wrong codes apart; either kind's lock refuses the login ID", async () => {
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 4; i += 1) await recordFailure(db(), "password", s, now, LOCK);
    for (let i = 0; i < 4; i += 1) await recordFailure(db(), "code", s, now, LOCK);
    expect(await lockState(db(), s, now)).toMatchObject({ locked: false });
    expect(await loginLockInfo(db(), s.loginKey, now)).toMatchObject({ passwordFailures: 4, codeFailures: 4, locked: false });
    await recordFailure(db(), "code", s, now, LOCK);
    expect(await lockState(db(), s, now)).toEqual({ locked: true, until: now + MINUTE });
  });

  it("counts a login ID that no account has like any other (no enumeration through locks)", async () => {
    const s = { loginKey: "nobody-has-this-login", ip: "198.51.100.200" };
    const now = t.clock.now();
    for (let i = 0; i < 5; i += 1) await recordFailure(db(), "password", s, now, LOCK);
    expect(await lockState(db(), { ...s, ip: "203.0.113.9" }, now)).toEqual({ locked: true, until: now + MINUTE });
  });

  it("NIST SP 800-63B 5.2.2: one address failing over many login IDs is refused on the same schedule, other addresses are not", async () => {
    const ip = "198.51.100.77";
    const now = t.clock.now();
    const sprayed = Array.from({ length: 5 }, (_, i) => ({ loginKey: `sprayed-${i}`, ip }));
    for (const s of sprayed) await recordFailure(db(), "password", s, now, LOCK);
    // Each login ID failed once: none is locked for others...
    expect(await lockState(db(), { loginKey: "sprayed-0", ip: "203.0.113.1" }, now)).toMatchObject({ locked: false });
    // ...but the address is, for every login ID.
    expect(await lockState(db(), { loginKey: "someone-else", ip }, now)).toEqual({ locked: true, until: now + MINUTE });
    const audit = await db().selectFrom("audit").select(["detail"]).where("event", "=", "lock.started").where("ip", "=", ip).execute();
    expect(audit.map((a) => JSON.parse(a.detail).scope)).toEqual(["address"]);
  });

  it("SPEC Tries: a right password resets the password count, never the code count; a confirmed code resets the code count", async () => {
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 3; i += 1) await recordFailure(db(), "password", s, now, LOCK);
    for (let i = 0; i < 3; i += 1) await recordFailure(db(), "code", s, now, LOCK);
    await recordSuccess(db(), "password", s);
    expect(await loginLockInfo(db(), s.loginKey, now)).toMatchObject({ passwordFailures: 0, codeFailures: 3 });
    await recordSuccess(db(), "code", s);
    expect(await loginLockInfo(db(), s.loginKey, now)).toMatchObject({ passwordFailures: 0, codeFailures: 0 });
  });

  it("NIST SP 800-63B 5.2.2: at 100 wrong codes the account stays locked until support unlocks it; wrong passwords never do that", async () => {
    const s = subject();
    const p = subject();
    let now = t.clock.now();
    let hard = false;
    for (let i = 1; i <= 100; i += 1) {
      const result = await recordFailure(db(i), "code", s, now, LOCK);
      const pw = await recordFailure(db(i), "password", p, now, LOCK);
      expect(pw.hardLocked).toBe(false);
      hard = result.hardLocked;
      expect(hard).toBe(i >= 100);
      now += 2 * HOUR; // each failure after the previous lock ended
    }
    expect(hard).toBe(true);
    expect(await lockState(db(), s, now + 365 * 24 * HOUR)).toEqual({ locked: true, until: null });
    expect(await lockState(db(), p, now + HOUR)).toMatchObject({ locked: false });
    // A confirmed code cannot lift it either: only support's unlock.
    await recordSuccess(db(), "code", s);
    expect(await lockState(db(), s, now)).toEqual({ locked: true, until: null });
    expect(await unlockLogin(db(), s.loginKey)).toBe(true);
    expect(await lockState(db(), { ...s, ip: "203.0.113.200" }, now)).toMatchObject({ locked: false });
  });

  it("counts 50 failures at once from two instances as 50, starts one lock (one email, one audit event), and never shortens it", async () => {
    const s = { loginKey: "parallel-50", ip: "198.51.100.250" };
    const now = t.clock.now();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => recordFailure(db(i), "code", s, now, LOCK)));
    expect(results.map((r) => r.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(results.filter((r) => r.lockStarted)).toHaveLength(1);
    const info = await loginLockInfo(db(), s.loginKey, now);
    expect(info.codeFailures).toBe(50);
    // The longest lock earned (50 failures → the 1-hour cap) is the one in force, whatever the order.
    expect(info.lockedUntil).toBe(now + HOUR);
    const starts = await db().selectFrom("audit").select("id").where("event", "=", "lock.started").where("subject", "=", s.loginKey).execute();
    expect(starts).toHaveLength(1);
  });
});
