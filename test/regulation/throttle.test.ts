import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressKey } from "../../src/regulation/address.ts";
import { addressLockInfo, loginLockInfo, unlockAddress, unlockLogin } from "../../src/regulation/locks.ts";
import { attemptFailed, attemptSucceeded, attemptVoid, counterKey, lockDuration, lockToldOnceRight, recordFailure, reserveAttempt, type FailureKind, type Subject } from "../../src/regulation/throttle.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LOCK = { after: 5, baseMs: MINUTE, maxMs: HOUR, codeHardLock: 100 };
const ADDRESS = { lockAfter: 50, windowMs: 15 * MINUTE, trustedNetworks: [] as string[] };
const SETTINGS = { lock: LOCK, address: ADDRESS, deviceLockAfter: 10 };

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
  const fail = (s: Subject, now: number, kind: FailureKind = "password", i = 0, settings = SETTINGS) => recordFailure(db(i), kind, s, now, settings);
  /** The pause that refuses this client now, if any; a reservation let through is given back. */
  /** The pause an attempt meets: refused at once, or (the login ID's lock until support unlocks, at the password step) once it is right. */
  const pauseFor = async (s: Subject, now: number, kind: FailureKind = "password", settings = SETTINGS) => {
    const r = await reserveAttempt(db(1), kind, s, now, settings);
    if (!r.ok) return r.pause;
    const onceRight = lockToldOnceRight(r);
    await attemptVoid(db(1), r);
    return onceRight;
  };

  it("ASVS 2.2.1: refuses the login ID once 5 failures are counted, and ends the lock exactly on time, without sleeping", async () => {
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 4; i += 1) expect((await fail(s, now, "password", i))!.lockStarted).toBe(false);
    expect(await pauseFor(s, now)).toBeNull();
    expect(await fail(s, now)).toMatchObject({ lockStarted: true, failures: 5, lockedUntil: now + MINUTE, hardLocked: false });
    // Another instance sees it, from another address: the state is in the database.
    expect(await pauseFor({ ...s, ip: "203.0.113.1" }, now)).toEqual({ scope: "login-id", until: now + MINUTE });
    expect(await pauseFor(s, now + MINUTE - 1)).toEqual({ scope: "login-id", until: now + MINUTE });
    // A refused attempt is not counted and does not extend the lock.
    for (let i = 0; i < 10; i += 1) expect(await fail(s, now + 30_000, "password", i)).toBeNull();
    expect((await loginLockInfo(db(), s.loginKey, now)).passwordFailures).toBe(5);
    expect(await pauseFor(s, now + MINUTE)).toBeNull();
    // The next failure after the lock doubles it.
    expect(await fail(s, now + MINUTE)).toMatchObject({ lockStarted: true, failures: 6, lockedUntil: now + 3 * MINUTE });
  });

  it("issue 19.1: 50 attempts at once on two instances reserve exactly FAMOS_LOCK_AFTER before the lock; one lock is started", async () => {
    const s = { loginKey: "burst-50", ip: "198.51.100.250" };
    const now = t.clock.now();
    const reservations = await Promise.all(Array.from({ length: 50 }, (_, i) => reserveAttempt(db(i), "password", { ...s, ip: `198.51.100.${200 + (i % 3)}` }, now, SETTINGS)));
    const passed = reservations.filter((r) => r.ok);
    expect(passed).toHaveLength(5);
    const results = await Promise.all(passed.map((r, i) => attemptFailed(db(i), r, now)));
    expect(results.filter((r) => r.lockStarted)).toHaveLength(1);
    expect((await loginLockInfo(db(), s.loginKey, now)).passwordFailures).toBe(5);
    const starts = await db().selectFrom("audit").select("id").where("event", "=", "lock.started").where("subject", "=", s.loginKey).execute();
    expect(starts).toHaveLength(1);
  });

  it("issue 19.1: the right password reserved fifth gives its count back and lifts the lock it set", async () => {
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 4; i += 1) await fail(s, now);
    const fifth = await reserveAttempt(db(), "password", s, now, SETTINGS);
    if (!fifth.ok) throw new Error("refused");
    // While the fifth is being verified, the lock it earned already refuses a sixth.
    expect(await pauseFor({ ...s, ip: "203.0.113.2" }, now)).toMatchObject({ scope: "login-id" });
    await attemptSucceeded(db(), fifth);
    expect(await loginLockInfo(db(), s.loginKey, now)).toMatchObject({ passwordFailures: 0, locked: false });
  });

  it("counts wrong passwords and wrong codes apart; either kind's lock refuses the login ID on new browsers", async () => {
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 4; i += 1) await fail(s, now, "password");
    for (let i = 0; i < 4; i += 1) await fail(s, now, "code");
    expect(await pauseFor(s, now)).toBeNull();
    expect(await loginLockInfo(db(), s.loginKey, now)).toMatchObject({ passwordFailures: 4, codeFailures: 4, locked: false });
    await fail(s, now, "code");
    expect(await pauseFor(s, now, "password")).toEqual({ scope: "login-id", until: now + MINUTE });
  });

  it("counts a login ID that no account has like any other (no enumeration through locks)", async () => {
    const s = { loginKey: "nobody-has-this-login", ip: "198.51.100.201" };
    const now = t.clock.now();
    for (let i = 0; i < 5; i += 1) await fail(s, now);
    expect(await pauseFor({ ...s, ip: "203.0.113.9" }, now)).toEqual({ scope: "login-id", until: now + MINUTE });
  });

  it("SPEC Locks: a device counts its own failures, is never refused by the login ID's lock, and is paused after its own limit", async () => {
    const s = subject();
    const device = { ...s, deviceId: `device-${n}` };
    const now = t.clock.now();
    await db().insertInto("devices").values({ id: device.deviceId, login_key: s.loginKey, created_at: now, last_used_at: now, revoked_at: null }).execute();
    for (let i = 0; i < 12; i += 1) await fail({ ...s, ip: "203.0.113.50" }, now);
    expect(await pauseFor(s, now)).toMatchObject({ scope: "login-id" });
    expect(await pauseFor(device, now)).toBeNull();
    for (let i = 0; i < 9; i += 1) expect((await fail(device, now))!.pause).toBeNull();
    expect((await fail(device, now))!.pause).toEqual({ scope: "device", until: now + MINUTE });
    expect(await pauseFor(device, now)).toEqual({ scope: "device", until: now + MINUTE });
    const info = await loginLockInfo(db(), s.loginKey, now);
    // The device's failures are its own: the login ID's count is the stranger's 5 (the rest were refused).
    expect(info.passwordFailures).toBe(5);
    expect(info.devices).toEqual([{ deviceId: device.deviceId, failures: 10, lockedUntil: now + MINUTE, hardLocked: false }]);
    // Support's unlock lifts the device's lock too.
    await unlockLogin(db(), s.loginKey);
    expect(await pauseFor(device, now)).toBeNull();
  });

  it("NIST SP 800-63B 5.2.2: 50 login IDs failing once from one address lock it for new browsers only, within the window", async () => {
    const ip = "198.51.100.77";
    const now = t.clock.now();
    for (let i = 0; i < 49; i += 1) await fail({ loginKey: `sprayed-${i}`, ip }, now);
    expect(await pauseFor({ loginKey: "someone-else", ip }, now)).toBeNull();
    expect((await fail({ loginKey: "sprayed-49", ip }, now))!.pause).toEqual({ scope: "address", until: now + MINUTE });
    expect(await pauseFor({ loginKey: "someone-else", ip }, now)).toEqual({ scope: "address", until: now + MINUTE });
    // No login ID is locked for others, and a known browser from that address is not refused.
    expect(await pauseFor({ loginKey: "sprayed-0", ip: "203.0.113.1" }, now)).toBeNull();
    expect(await pauseFor({ loginKey: "someone-else", ip, deviceId: "a-known-device" }, now)).toBeNull();
    const audit = await db().selectFrom("audit").select(["detail"]).where("event", "=", "lock.started").where("ip", "=", ip).execute();
    expect(audit.map((a) => JSON.parse(a.detail).scope)).toEqual(["address"]);
    expect(await unlockAddress(db(), ip, now)).toMatchObject({ address: ip, failures: 50, lockedUntil: now + MINUTE });
    expect(await pauseFor({ loginKey: "someone-else", ip }, now)).toBeNull();
  });

  it("issue 19.2: a right password clears its own login ID's count only; the address's count decays with its window alone", async () => {
    const ip = "198.51.100.78";
    const now = t.clock.now();
    for (let i = 0; i < 4; i += 1) await fail({ loginKey: `spray2-${i}`, ip }, now);
    const staff = { loginKey: "spray2-staff", ip };
    await fail(staff, now);
    const right = await reserveAttempt(db(), "password", staff, now, SETTINGS);
    if (!right.ok) throw new Error("refused");
    await attemptSucceeded(db(), right);
    expect((await loginLockInfo(db(), staff.loginKey, now)).passwordFailures).toBe(0);
    expect((await addressLockInfo(db(), ip, now))!.failures).toBe(5);
    // Past the window the count starts again.
    await fail({ loginKey: "spray2-late", ip }, now + 15 * MINUTE);
    expect((await addressLockInfo(db(), ip, now + 15 * MINUTE))!.failures).toBe(1);
  });

  it("FAMOS_TRUSTED_NETWORKS: failures from those ranges never count against the address, still against the login ID", async () => {
    const settings = { ...SETTINGS, address: { ...ADDRESS, lockAfter: 2, trustedNetworks: ["10.20.0.0/16"] } };
    const now = t.clock.now();
    for (let i = 0; i < 3; i += 1) await fail({ loginKey: `trusted-net-${i}`, ip: "10.20.3.4" }, now, "password", 0, settings);
    expect(await addressLockInfo(db(), "10.20.3.4", now)).toBeNull();
    const s = { loginKey: "trusted-net-x", ip: "10.20.3.4" };
    for (let i = 0; i < 5; i += 1) await fail(s, now, "password", 0, settings);
    expect(await pauseFor(s, now, "password", settings)).toMatchObject({ scope: "login-id" });
  });

  it("SPEC Tries: a right password resets the password count, never the code count; a confirmed code resets the code count", async () => {
    const s = subject();
    const now = t.clock.now();
    for (let i = 0; i < 3; i += 1) await fail(s, now, "password");
    for (let i = 0; i < 3; i += 1) await fail(s, now, "code");
    const password = await reserveAttempt(db(), "password", s, now, SETTINGS);
    if (password.ok) await attemptSucceeded(db(), password);
    expect(await loginLockInfo(db(), s.loginKey, now)).toMatchObject({ passwordFailures: 0, codeFailures: 3 });
    const code = await reserveAttempt(db(), "code", s, now, SETTINGS);
    if (code.ok) await attemptSucceeded(db(), code);
    expect(await loginLockInfo(db(), s.loginKey, now)).toMatchObject({ passwordFailures: 0, codeFailures: 0 });
  });

  it("NIST SP 800-63B 5.2.2: at 100 wrong codes the account stays locked until support unlocks it; wrong passwords never do that", async () => {
    const s = subject();
    const p = subject();
    let now = t.clock.now();
    for (let i = 1; i <= 100; i += 1) {
      const result = await fail({ ...s, ip: `198.51.${i}.1` }, now, "code", i);
      const pw = await fail({ ...p, ip: `198.51.${i}.2` }, now, "password", i);
      expect(pw!.hardLocked).toBe(false);
      expect(result!.hardLocked).toBe(i >= 100);
      now += 2 * HOUR; // each failure after the previous lock ended
    }
    expect(await pauseFor(s, now + 365 * 24 * HOUR)).toEqual({ scope: "login-id", until: null });
    // Even a known device is refused by it.
    expect(await pauseFor({ ...s, deviceId: "some-device" }, now)).toEqual({ scope: "login-id", until: null });
    expect(await pauseFor(p, now + HOUR)).toBeNull();
    expect(await unlockLogin(db(), s.loginKey)).toBe(true);
    expect(await pauseFor({ ...s, ip: "203.0.113.200" }, now)).toBeNull();
  });

  it("keeps the throttle key format in one place", () => {
    expect(counterKey.loginId("code", "alice")).toBe("code:id:alice");
    expect(counterKey.address("2001:db8:1:2::1")).toBe("ip:2001:db8:1:2::/64");
  });
});
