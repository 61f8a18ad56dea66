import { describe, expect, it } from "vitest";
import { clear, giveBack, lockDuration, readCounters, reserve, type CounterPolicy } from "../../src/regulation/counter.ts";
import { useUnitStore } from "../support/unit-store.ts";

/**
 * SPEC "Locks" at the counter itself (src/regulation/counter.ts): counted before verifying, locked
 * in the same statement, the lock doubling to its cap, windows, the lock until support unlocks, and
 * giving a count back exactly. Small policies so every step shows.
 */
const RUN: CounterPolicy = { after: 3, baseMs: 1000, maxMs: 8000, windowMs: null, hardAfter: null };
const WINDOW: CounterPolicy = { ...RUN, windowMs: 10_000 };
const HARD: CounterPolicy = { ...RUN, hardAfter: 4 };

describe("lockDuration", () => {
  const spec = { after: 5, baseMs: 60_000, maxMs: 3_600_000 };
  it("is none below the threshold, the base at it, doubling with each further failure, capped", () => {
    expect(lockDuration(0, spec)).toBe(0);
    expect(lockDuration(4, spec)).toBe(0);
    expect(lockDuration(5, spec)).toBe(60_000);
    expect(lockDuration(6, spec)).toBe(120_000);
    expect(lockDuration(10, spec)).toBe(1_920_000);
    expect(lockDuration(11, spec)).toBe(3_600_000);
    expect(lockDuration(1_000, spec)).toBe(3_600_000);
  });
  it("stops doubling after 40 steps, so a huge cap never overflows", () => {
    const open = { after: 1, baseMs: 1, maxMs: Number.MAX_SAFE_INTEGER };
    expect(lockDuration(41, open)).toBe(2 ** 40);
    expect(lockDuration(42, open)).toBe(2 ** 40);
    expect(lockDuration(5_000, open)).toBe(2 ** 40);
  });
});

describe("the counter (unit tier: in-memory SQLite)", () => {
  const unit = useUnitStore();
  const db = () => unit.db;
  const now = unit.now;
  const key = () => unit.fresh("test");
  const row = unit.throttle;

  it("counts each attempt before it is verified and locks on the threshold, doubling to the cap", async () => {
    const k = key();
    const t0 = now();
    expect(await reserve(db(), k, t0, RUN)).toEqual({ key: k, failures: 1, lockedUntil: 0, startedLock: false, startedHardLock: false, windowStartedAt: 0 });
    expect(await row(k)).toEqual({ key: k, failures: 1, locked_until: 0, hard_locked: 0, updated_at: t0, window_started_at: 0 });
    unit.clock.advance(5);
    expect(await reserve(db(), k, now(), RUN)).toMatchObject({ failures: 2, lockedUntil: 0, startedLock: false });
    expect((await row(k))!.updated_at).toBe(now());
    const third = await reserve(db(), k, now(), RUN);
    expect(third).toEqual({ key: k, failures: 3, lockedUntil: now() + 1000, startedLock: true, startedHardLock: false, windowStartedAt: 0 });
    const lockedAt = now();
    // While the lock is in force nothing is counted and nothing extended.
    expect(await reserve(db(), k, now(), RUN)).toBeNull();
    unit.clock.set(lockedAt + 999);
    expect(await reserve(db(), k, now(), RUN)).toBeNull();
    expect(await row(k)).toMatchObject({ failures: 3, locked_until: lockedAt + 1000 });
    const steps: Array<[number, number]> = [
      [4, 2000],
      [5, 4000],
      [6, 8000],
      [7, 8000],
    ];
    let until = lockedAt + 1000;
    for (const [failures, ms] of steps) {
      unit.clock.set(until);
      const counted = await reserve(db(), k, now(), RUN);
      expect(counted).toEqual({ key: k, failures, lockedUntil: now() + ms, startedLock: true, startedHardLock: false, windowStartedAt: 0 });
      until = now() + ms;
    }
  });

  it("locks on the first failure when the threshold is 1 (the insert sets the lock too)", async () => {
    const k = key();
    const first = await reserve(db(), k, now(), { ...RUN, after: 1 });
    expect(first).toMatchObject({ failures: 1, lockedUntil: now() + 1000, startedLock: true });
    expect((await row(k))!.locked_until).toBe(now() + 1000);
    expect(await reserve(db(), k, now(), { ...RUN, after: 1 })).toBeNull();
  });

  it("counts failures within the window only: the window ends FAMOS_ADDRESS_WINDOW after it began", async () => {
    const k = key();
    const t0 = now();
    expect(await reserve(db(), k, t0, WINDOW)).toMatchObject({ failures: 1, windowStartedAt: t0 });
    expect((await row(k))!.window_started_at).toBe(t0);
    expect(await reserve(db(), k, t0 + 9_999, WINDOW)).toMatchObject({ failures: 2, windowStartedAt: t0 });
    expect(await reserve(db(), k, t0 + 10_000, WINDOW)).toMatchObject({ failures: 1, windowStartedAt: t0 + 10_000, lockedUntil: 0 });
    expect(await row(k)).toMatchObject({ failures: 1, window_started_at: t0 + 10_000 });
    unit.clock.set(t0 + 10_000);
  });

  it("locks until support unlocks at hardAfter failures: no end of the timed lock lets another in", async () => {
    const k = key();
    for (let i = 1; i <= 3; i++) expect(await reserve(db(), k, now(), HARD)).toMatchObject({ failures: i, startedHardLock: false });
    unit.clock.advance(1000);
    const fourth = await reserve(db(), k, now(), HARD);
    expect(fourth).toMatchObject({ failures: 4, startedHardLock: true, startedLock: true });
    expect((await row(k))!.hard_locked).toBe(1);
    unit.clock.advance(10 * 86_400_000);
    expect(await reserve(db(), k, now(), HARD)).toBeNull();
    expect(await readCounters(db(), [k])).toEqual([{ key: k, failures: 4, lockedUntil: now() - 10 * 86_400_000 + 2000, hardLocked: true }]);
  });

  it("hard-locks on the first failure when hardAfter is 1, and not before when it is 2", async () => {
    const one = key();
    expect(await reserve(db(), one, now(), { ...HARD, hardAfter: 1 })).toMatchObject({ startedHardLock: true });
    expect((await row(one))!.hard_locked).toBe(1);
    const two = key();
    expect(await reserve(db(), two, now(), { ...HARD, hardAfter: 2 })).toMatchObject({ startedHardLock: false });
    expect((await row(two))!.hard_locked).toBe(0);
    expect(await reserve(db(), two, now(), { ...HARD, hardAfter: 2 })).toMatchObject({ startedHardLock: true });
  });

  it("gives a count back exactly: one failure less, the lock it started lifted", async () => {
    const k = key();
    await reserve(db(), k, now(), RUN);
    await reserve(db(), k, now(), RUN);
    const locking = (await reserve(db(), k, now(), RUN))!;
    expect(locking.startedLock).toBe(true);
    await giveBack(db(), locking);
    expect(await row(k)).toMatchObject({ failures: 2, locked_until: 0, hard_locked: 0 });
    // …and the next attempt is let through.
    expect(await reserve(db(), k, now(), RUN)).toMatchObject({ failures: 3 });
  });

  it("gives back the lock until unlocked that its own count started", async () => {
    const k = key();
    const policy = { ...HARD, hardAfter: 1 };
    const first = (await reserve(db(), k, now(), policy))!;
    expect(first.startedHardLock).toBe(true);
    await giveBack(db(), first);
    expect(await row(k)).toMatchObject({ failures: 0, hard_locked: 0 });
    expect(await reserve(db(), k, now(), policy)).toMatchObject({ failures: 1 });
  });

  it("giving back a count leaves a lock (timed or until unlocked) that another attempt started", async () => {
    const k = key();
    await reserve(db(), k, now(), HARD);
    await reserve(db(), k, now(), HARD);
    const mine = (await reserve(db(), k, now(), HARD))!;
    const theirs = (await reserve(db(), k, now() + 1000, HARD))!;
    expect(theirs.startedHardLock).toBe(true);
    // `mine` started a timed lock that has ended; theirs is the one until unlocked.
    await giveBack(db(), { ...mine, startedLock: false });
    expect(await row(k)).toMatchObject({ failures: 3, hard_locked: 1, locked_until: now() + 3000 });

    const k2 = key();
    const first = (await reserve(db(), k2, now(), RUN))!;
    await reserve(db(), k2, now(), RUN);
    const lock = (await reserve(db(), k2, now(), RUN))!;
    await giveBack(db(), first);
    expect(await row(k2)).toMatchObject({ failures: 2, locked_until: lock.lockedUntil });
  });

  it("gives back to its own counter and window only", async () => {
    const a = key();
    const b = key();
    const counted = (await reserve(db(), a, now(), RUN))!;
    await reserve(db(), b, now(), RUN);
    await giveBack(db(), counted);
    expect((await row(a))!.failures).toBe(0);
    expect((await row(b))!.failures).toBe(1);
    // Never below zero.
    await giveBack(db(), counted);
    expect((await row(a))!.failures).toBe(0);

    const w = key();
    const t0 = now();
    const old = (await reserve(db(), w, t0, WINDOW))!;
    await reserve(db(), w, t0 + 10_000, WINDOW);
    await giveBack(db(), old);
    expect((await row(w))!.failures).toBe(1);
  });

  it("a success ends the run; a lock until unlocked stays unless this very attempt set it", async () => {
    const k = key();
    const counted = (await reserve(db(), k, now(), RUN))!;
    await clear(db(), counted);
    expect(await row(k)).toBeUndefined();

    const h = key();
    await reserve(db(), h, now(), { ...HARD, hardAfter: 2 });
    const before = (await reserve(db(), h, now(), { ...HARD, hardAfter: 2 }))!;
    await clear(db(), { ...before, startedHardLock: false });
    expect((await row(h))!.hard_locked).toBe(1);
    await clear(db(), before);
    expect(await row(h)).toBeUndefined();
  });

  it("reads counters by key, missing ones left out, and nothing for no keys", async () => {
    const k = key();
    await reserve(db(), k, now(), RUN);
    expect(await readCounters(db(), [])).toEqual([]);
    expect(await readCounters(db(), [k, "test:missing"])).toEqual([{ key: k, failures: 1, lockedUntil: 0, hardLocked: false }]);
  });
});
