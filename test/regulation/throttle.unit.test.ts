import { describe, expect, it } from "vitest";
import {
  attemptFailed,
  attemptSucceeded,
  attemptVoid,
  counterKey,
  lockToldOnceRight,
  loginIdPaused,
  recordFailure,
  reserveAttempt,
  type FailureKind,
  type Reservation,
  type Subject,
} from "../../src/regulation/throttle.ts";
import { useUnitStore } from "../support/unit-store.ts";

/**
 * SPEC "Locks" at its one home (src/regulation/throttle.ts): which counters an attempt is counted on
 * (login ID, device, address), which locks refuse which client, what a failure reports and audits,
 * and what a success or a void attempt gives back. Small settings so each threshold shows.
 */
const SETTINGS = {
  lock: { after: 2, baseMs: 1000, maxMs: 8000, codeHardLock: 3 },
  address: { lockAfter: 3, windowMs: 10_000, trustedNetworks: ["10.0.0.0/8"] },
  deviceLockAfter: 3,
};

type Ok = Extract<Reservation, { ok: true }>;

describe("throttle (unit tier: in-memory SQLite)", () => {
  const unit = useUnitStore();
  let n = 0;
  const db = () => unit.db;
  const now = unit.now;
  /** A fresh login key and address for each test, so counters never meet. */
  const fresh = (deviceId: string | null = null): Subject => {
    n += 1;
    return { loginKey: `user-${n}`, ip: `198.51.100.${n}`, deviceId };
  };
  const row = unit.throttle;
  const reserveOk = async (kind: FailureKind, s: Subject): Promise<Ok> => {
    const r = await reserveAttempt(db(), kind, s, now(), SETTINGS);
    if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.pause)}`);
    return r;
  };
  const fail = async (kind: FailureKind, s: Subject) => attemptFailed(db(), await reserveOk(kind, s), now());
  const lockAudits = (subjectOrIp: string) =>
    db()
      .selectFrom("audit")
      .select(["event", "actor", "subject", "ip", "detail"])
      .where("event", "=", "lock.started")
      .where((eb) => eb.or([eb("subject", "=", subjectOrIp), eb("ip", "=", subjectOrIp)]))
      .orderBy("id")
      .execute();

  it("names its counters in one format", () => {
    expect(counterKey.loginId("password", "jane")).toBe("password:id:jane");
    expect(counterKey.loginId("code", "jane")).toBe("code:id:jane");
    expect(counterKey.device("code", "d1")).toBe("code:dev:d1");
    expect(counterKey.address("203.0.113.9")).toBe("ip:203.0.113.9");
    expect(counterKey.address("2001:db8:1:2:3:4:5:6")).toBe("ip:2001:db8:1:2::/64");
  });

  it("counts a new browser on the login ID, and on its address within the address window", async () => {
    const s = fresh();
    const r = await reserveOk("password", s);
    expect(r).toEqual({
      ok: true,
      kind: "password",
      subject: s,
      scope: "login-id",
      primary: { key: `password:id:${s.loginKey}`, failures: 1, lockedUntil: 0, startedLock: false, startedHardLock: false, windowStartedAt: 0 },
      address: { scope: "address", key: `ip:${s.ip}`, policy: { after: 3, baseMs: 1000, maxMs: 8000, windowMs: 10_000, hardAfter: null } },
      toldLock: null,
    });
    // The address is counted only once the failure is known.
    expect(await row(`ip:${s.ip}`)).toBeUndefined();
    await attemptFailed(db(), r, now());
    expect(await row(`ip:${s.ip}`)).toMatchObject({ failures: 1, window_started_at: now() });
  });

  it("counts wrong passwords and reset codes on the address, never wrong second-factor codes (typed after the right password)", async () => {
    const ip = "203.0.113.78";
    // More wrong codes than the address's threshold, each of another login ID: the address counts none.
    for (let i = 0; i < 4; i++) {
      const r = await reserveOk("code", { loginKey: `codes-${n}-${i}`, ip });
      expect(r.address).toBeNull();
      // A code's own reservation tells no lock (the code counter's locks refuse it in the statement).
      expect(r.toldLock).toBeNull();
      expect((await attemptFailed(db(), r, now())).pause).toBeNull();
    }
    expect(await row(`ip:${ip}`)).toBeUndefined();
    expect(await row(`code:id:codes-${n}-0`)).toMatchObject({ failures: 1 });
    // A reset's wrong code needs no password: it counts, as a wrong password does.
    await fail("reset", { loginKey: `resets-${n}`, ip });
    expect(await row(`ip:${ip}`)).toMatchObject({ failures: 1 });
    await fail("password", { loginKey: `sprays-${n}`, ip });
    expect(await row(`ip:${ip}`)).toMatchObject({ failures: 2 });
  });

  it("counts nothing on an address in FAMOS_TRUSTED_NETWORKS", async () => {
    const s = { ...fresh(), ip: "10.1.2.3" };
    const r = await reserveOk("password", s);
    expect(r.address).toBeNull();
    await attemptFailed(db(), r, now());
    expect(await row("ip:10.1.2.3")).toBeUndefined();
  });

  it("counts a browser with a device cookie on its device alone, at FAMOS_DEVICE_LOCK_AFTER, never on the address", async () => {
    const s = fresh(`dev-${n}`);
    const r = await reserveOk("password", s);
    expect(r).toMatchObject({ scope: "device", address: null, primary: { key: `password:dev:${s.deviceId}`, failures: 1 } });
    await attemptFailed(db(), r, now());
    const second = await fail("password", s);
    expect(second).toEqual({ lockStarted: false, hardLocked: false, failures: 2, lockedUntil: 0, pause: null });
    const third = await fail("password", s);
    expect(third).toEqual({ lockStarted: true, hardLocked: false, failures: 3, lockedUntil: now() + 1000, pause: { scope: "device", until: now() + 1000 } });
    expect(await row(`password:id:${s.loginKey}`)).toBeUndefined();
    expect(await row(`ip:${s.ip}`)).toBeUndefined();
    expect(await reserveAttempt(db(), "code", s, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "device", until: now() + 1000 } });
    // At FAMOS_CODE_HARD_LOCK a device's wrong codes lock that device until unlocked (NIST SP 800-63B
    // 5.2.2), and only it: the login ID stays open to new browsers.
    unit.clock.advance(1000);
    for (let i = 0; i < 2; i++) await fail("code", s);
    unit.clock.advance(1000);
    expect(await fail("code", s)).toMatchObject({ hardLocked: true, lockStarted: true, pause: { scope: "device", until: null } });
    expect(await reserveAttempt(db(), "password", s, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "device", until: null } });
    expect(await reserveAttempt(db(), "code", { ...s, deviceId: null, ip: "198.51.100.250" }, now(), SETTINGS)).toMatchObject({ ok: true, scope: "login-id" });
  });

  it("lets a remembered browser in while the login ID's timed lock (either kind) keeps new browsers out", async () => {
    const s = fresh(`dev-open-${n}`);
    const stranger = { ...s, deviceId: null, ip: "198.51.100.251" };
    for (let i = 0; i < 2; i++) await fail("code", stranger);
    expect(await reserveAttempt(db(), "code", stranger, now(), SETTINGS)).toMatchObject({ ok: false, pause: { scope: "login-id" } });
    // At the password step a new browser meets the code pause once the password is right (lockToldOnceRight); a remembered one never.
    const newBrowser = await reserveOk("password", stranger);
    expect(lockToldOnceRight(newBrowser)).toEqual({ scope: "login-id", until: now() + 1000 });
    await attemptVoid(db(), newBrowser);
    expect(await reserveAttempt(db(), "password", s, now(), SETTINGS)).toMatchObject({ ok: true, scope: "device", toldLock: null });
    expect(await reserveAttempt(db(), "code", s, now(), SETTINGS)).toMatchObject({ ok: true, scope: "device" });
  });

  it("locks the login ID for new browsers at FAMOS_LOCK_AFTER, reports and audits the start once, and refuses both kinds", async () => {
    const s = fresh();
    expect(await fail("password", s)).toEqual({ lockStarted: false, hardLocked: false, failures: 1, lockedUntil: 0, pause: null });
    const locked = await fail("password", s);
    expect(locked).toEqual({ lockStarted: true, hardLocked: false, failures: 2, lockedUntil: now() + 1000, pause: { scope: "login-id", until: now() + 1000 } });
    expect(await lockAudits(s.loginKey)).toEqual([
      { event: "lock.started", actor: null, subject: s.loginKey, ip: s.ip, detail: JSON.stringify({ kind: "password", scope: "login-id", failures: 2, until: now() + 1000 }) },
    ]);
    const other = { ...s, ip: "198.51.100.250" };
    for (const kind of ["password", "code"] as const) {
      expect(await reserveAttempt(db(), kind, other, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: now() + 1000 } });
    }
    expect(await row(`password:id:${s.loginKey}`)).toMatchObject({ failures: 2 });
    // Not the owner's usual browser: the login ID's timed lock is for new browsers.
    expect(await reserveAttempt(db(), "password", { ...s, deviceId: "known" }, now(), SETTINGS)).toMatchObject({ ok: true });
    unit.clock.advance(999);
    expect(await loginIdPaused(db(), "reset", s.loginKey, now(), SETTINGS)).toBe(true);
    unit.clock.advance(1);
    expect(await loginIdPaused(db(), "reset", s.loginKey, now(), SETTINGS)).toBe(false);
    expect(await reserveAttempt(db(), "password", other, now(), SETTINGS)).toMatchObject({ ok: true });
  });

  it("a code lock of the login ID meets the password step once right, never refuses it before, and is read by loginIdPaused", async () => {
    const s = fresh();
    for (let i = 0; i < 2; i++) await fail("code", s);
    expect(await loginIdPaused(db(), "reset", s.loginKey, now(), SETTINGS)).toBe(true);
    // Only an account whose password someone has can have it: told before the check, it named the account (hard-lock-tail.test).
    for (const kind of ["password", "reset"] as const) {
      const r = await reserveOk(kind, s);
      expect(lockToldOnceRight(r)).toEqual({ scope: "login-id", until: now() + 1000 });
      await attemptVoid(db(), r);
    }
    expect(await loginIdPaused(db(), "reset", "nobody-here", now(), SETTINGS)).toBe(false);
  });

  it("locks the login ID until support unlocks after FAMOS_CODE_HARD_LOCK wrong codes, for every browser", async () => {
    const s = fresh();
    await fail("code", s);
    await fail("code", s);
    const firstLockEnds = now() + 1000;
    unit.clock.advance(1000);
    const hard = await fail("code", s);
    expect(hard).toEqual({ lockStarted: true, hardLocked: true, failures: 3, lockedUntil: Infinity, pause: { scope: "login-id", until: null } });
    const audits = await lockAudits(s.loginKey);
    expect(audits.map((a) => JSON.parse(a.detail))).toEqual([
      { kind: "code", scope: "login-id", failures: 2, until: firstLockEnds },
      { kind: "code", scope: "login-id-until-unlocked", failures: 3, until: null },
    ]);
    expect(audits[1]).toMatchObject({ subject: s.loginKey, ip: s.ip });
    unit.clock.advance(86_400_000);
    expect(await loginIdPaused(db(), "reset", s.loginKey, now(), SETTINGS)).toBe(true);
    const device = { ...s, deviceId: "their-own-browser" };
    for (const browser of [device, s]) {
      expect(await reserveAttempt(db(), "code", browser, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: null } });
      // The password step meets it once the password is right, never before (lockToldOnceRight): counted as at any account.
      const password = await reserveAttempt(db(), "password", browser, now(), SETTINGS);
      expect(password).toMatchObject({ ok: true });
      expect(lockToldOnceRight(password as Extract<Reservation, { ok: true }>)).toEqual({ scope: "login-id", until: null });
      await attemptVoid(db(), password as Extract<Reservation, { ok: true }>);
    }
    // Wrong passwords never lock until unlocked.
    const p = fresh();
    for (let i = 0; i < 4; i++) {
      await fail("password", p);
      unit.clock.advance(8000);
    }
    expect((await row(`password:id:${p.loginKey}`))!.hard_locked).toBe(0);
  });

  it("the self-service reset's wrong codes pause and then lock the reset alone; the sign-in's locks refuse the reset too", async () => {
    /** Let in, and the attempt given back (as a right code racing another would be): nothing stays counted. */
    const letIn = async (kind: FailureKind, subject: Subject) => {
      const reservation = await reserveAttempt(db(), kind, subject, now(), SETTINGS);
      expect(reservation, kind).toMatchObject({ ok: true });
      if (reservation.ok) await attemptVoid(db(), reservation);
    };
    const s = fresh();
    await fail("reset", s);
    await fail("reset", s);
    expect(await row(`reset:id:${s.loginKey}`)).toMatchObject({ failures: 2, hard_locked: 0 });
    expect(await reserveAttempt(db(), "reset", { ...s, ip: "198.51.100.251" }, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: now() + 1000 } });
    expect(await loginIdPaused(db(), "reset", s.loginKey, now(), SETTINGS)).toBe(true);
    // The sign-in, from a new browser or the owner's usual one, is not paused by it.
    for (const kind of ["password", "code"] as const) {
      await letIn(kind, { ...s, ip: "198.51.100.252" });
      await letIn(kind, { ...s, deviceId: "their-own-browser" });
    }
    unit.clock.advance(1000);
    const hard = await fail("reset", s);
    expect(hard).toMatchObject({ lockStarted: true, hardLocked: true, pause: { scope: "login-id", until: null } });
    unit.clock.advance(86_400_000);
    expect(await reserveAttempt(db(), "reset", { ...s, ip: "198.51.100.253" }, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: null } });
    for (const kind of ["password", "code"] as const) {
      await letIn(kind, { ...s, ip: "198.51.100.254" });
      await letIn(kind, { ...s, deviceId: "their-own-browser" });
    }
    // A sign-in lock of the login ID refuses the reset (and so does its step 1: loginIdPaused).
    const t = fresh();
    await fail("password", t);
    await fail("password", t);
    expect(await reserveAttempt(db(), "reset", t, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: now() + 1000 } });
  });

  it("names the device as the pause when the device's own counter is locked until unlocked", async () => {
    const s = fresh(`dev-hard-${n}`);
    await db().insertInto("throttles").values({ key: `password:dev:${s.deviceId}`, failures: 9, locked_until: 0, hard_locked: 1, updated_at: now(), window_started_at: 0 }).execute();
    expect(await reserveAttempt(db(), "code", s, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "device", until: null } });
  });

  it("locks an address for new browsers after FAMOS_ADDRESS_LOCK_AFTER failures across login IDs, audited without a subject", async () => {
    const ip = "203.0.113.77";
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await fail("password", { loginKey: `spray-${n}-${i}`, ip }));
    expect(results.map((r) => r.pause)).toEqual([null, null, { scope: "address", until: now() + 1000 }]);
    expect(results[2]).toMatchObject({ lockStarted: false, failures: 1, lockedUntil: 0 });
    expect(await lockAudits(ip)).toEqual([
      { event: "lock.started", actor: null, subject: null, ip, detail: JSON.stringify({ kind: "password", scope: "address", failures: 3, until: now() + 1000 }) },
    ]);
    const stranger = { loginKey: `another-${n}`, ip };
    // Every kind is refused by it, the second factor's code too (which never counts on it).
    for (const kind of ["password", "code", "reset"] as const) {
      expect(await reserveAttempt(db(), kind, stranger, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "address", until: now() + 1000 } });
    }
    // The owner's usual browser is not refused by the address, nor counted on it.
    expect(await reserveAttempt(db(), "password", { ...stranger, deviceId: "usual" }, now(), SETTINGS)).toMatchObject({ ok: true, address: null });
    // An IPv6 client counts by its /64.
    const v6 = "2001:db8:aa:bb:1::1";
    for (let i = 0; i < 3; i++) await fail("password", { loginKey: `v6-${n}-${i}`, ip: v6 });
    expect(await reserveAttempt(db(), "password", { loginKey: `v6-${n}-x`, ip: "2001:db8:aa:bb:ffff::2" }, now(), SETTINGS)).toMatchObject({ ok: false, pause: { scope: "address" } });
  });

  it("names the pause that ends last when several apply", async () => {
    const s = fresh();
    await db()
      .insertInto("throttles")
      .values([
        { key: `password:id:${s.loginKey}`, failures: 2, locked_until: now() + 5000, hard_locked: 0, updated_at: now(), window_started_at: 0 },
        { key: `ip:${s.ip}`, failures: 3, locked_until: now() + 7000, hard_locked: 0, updated_at: now(), window_started_at: now() },
        { key: `code:id:${s.loginKey}`, failures: 2, locked_until: now() + 6000, hard_locked: 0, updated_at: now(), window_started_at: 0 },
      ])
      .execute();
    expect(await reserveAttempt(db(), "password", s, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "address", until: now() + 7000 } });
    await db().deleteFrom("throttles").where("key", "=", `ip:${s.ip}`).execute();
    // The login ID's code pause (6000) is not one of them at the password step: it is told once right (lockToldOnceRight).
    expect(await reserveAttempt(db(), "password", s, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: now() + 5000 } });
    expect(await reserveAttempt(db(), "code", s, now(), SETTINGS)).toEqual({ ok: false, pause: { scope: "login-id", until: now() + 6000 } });
    // An address lock is never one until unlocked, even if its row says so.
    const t = fresh();
    await db().insertInto("throttles").values({ key: `ip:${t.ip}`, failures: 3, locked_until: 0, hard_locked: 1, updated_at: now(), window_started_at: now() }).execute();
    expect(await reserveAttempt(db(), "password", t, now(), SETTINGS)).toMatchObject({ ok: true });
  });

  it("a failure after another's lock on the address reports the login ID's own pause first", async () => {
    const s = fresh();
    await fail("password", s);
    // Address at its threshold and the login ID at its own: the login ID's pause is the one named.
    await db().updateTable("throttles").set({ failures: 2 }).where("key", "=", `ip:${s.ip}`).execute();
    const both = await fail("password", s);
    expect(both.pause).toEqual({ scope: "login-id", until: now() + 1000 });
    expect((await lockAudits(s.ip)).map((a) => JSON.parse(a.detail).scope)).toEqual(["login-id", "address"]);
  });

  it("stops a parallel burst at FAMOS_LOCK_AFTER: the rest are refused with the lock's end, or until unlocked", async () => {
    const s = fresh();
    const burst = await Promise.all(Array.from({ length: 5 }, () => reserveAttempt(db(), "password", s, now(), SETTINGS)));
    expect(burst.filter((r) => r.ok)).toHaveLength(2);
    expect(burst.filter((r) => !r.ok).map((r) => (r.ok ? null : r.pause))).toEqual(Array(3).fill({ scope: "login-id", until: now() + 1000 }));

    const c = fresh();
    await fail("code", c);
    unit.clock.advance(1000);
    await fail("code", c);
    unit.clock.advance(1000);
    const codes = await Promise.all(Array.from({ length: 3 }, () => reserveAttempt(db(), "code", c, now(), SETTINGS)));
    expect(codes.filter((r) => !r.ok).map((r) => (r.ok ? null : r.pause))).toEqual([{ scope: "login-id", until: null }, { scope: "login-id", until: null }]);
  });

  it("a success ends the login ID's run but never the address's count; a void attempt gives its count back", async () => {
    const s = fresh();
    await fail("password", s);
    await attemptSucceeded(db(), await reserveOk("password", s));
    expect(await row(`password:id:${s.loginKey}`)).toBeUndefined();
    expect(await row(`ip:${s.ip}`)).toMatchObject({ failures: 1 });

    const v = fresh();
    await fail("password", v);
    const locking = await reserveOk("password", v);
    expect(locking.primary.startedLock).toBe(true);
    await attemptVoid(db(), locking);
    expect(await row(`password:id:${v.loginKey}`)).toMatchObject({ failures: 1, locked_until: 0 });
    expect(await row(`ip:${v.ip}`)).toMatchObject({ failures: 1 });
  });

  it("recordFailure counts a failure known to be one, and is refused (null) while a pause applies", async () => {
    const s = fresh();
    expect(await recordFailure(db(), "password", s, now(), SETTINGS)).toMatchObject({ failures: 1, pause: null });
    expect(await recordFailure(db(), "password", s, now(), SETTINGS)).toMatchObject({ failures: 2, lockStarted: true });
    expect(await recordFailure(db(), "password", s, now(), SETTINGS)).toBeNull();
    expect(await row(`password:id:${s.loginKey}`)).toMatchObject({ failures: 2 });
  });
});
