import { describe, expect, it } from "vitest";
import { BUSY, defaultLegacyConcurrency, LegacyPool } from "../../src/password/legacy-pool.ts";

/** A task that runs until the test lets it finish, recording how many ran at once. */
function gate() {
  const running = { now: 0, most: 0, perKey: new Map<string, number>(), mostPerKey: 0 };
  const releases: Array<() => void> = [];
  const task = (key: string) => async () => {
    running.now += 1;
    running.most = Math.max(running.most, running.now);
    running.perKey.set(key, (running.perKey.get(key) ?? 0) + 1);
    running.mostPerKey = Math.max(running.mostPerKey, running.perKey.get(key)!);
    await new Promise<void>((resolve) => releases.push(resolve));
    running.now -= 1;
    running.perKey.set(key, running.perKey.get(key)! - 1);
    return key;
  };
  /** Lets every task started so far finish, until none is left. */
  const drain = async (all: Promise<unknown>[]) => {
    let settled = false;
    void Promise.all(all).then(() => (settled = true));
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.splice(0).forEach((release) => release());
    }
  };
  return { running, task, drain };
}

describe("issue 19.3: the legacy verification pool", () => {
  it("runs at most `concurrency` verifications at once over many accounts, the others wait their turn", async () => {
    const pool = new LegacyPool({ concurrency: 2, maxQueued: 100, maxWaitingPerAccount: 3 });
    const { running, task, drain } = gate();
    const all = Array.from({ length: 40 }, (_, i) => pool.run(`account ${i}`, task(`account ${i}`)));
    await drain(all);
    expect(running.most).toBe(2);
    expect(await Promise.all(all)).toEqual(Array.from({ length: 40 }, (_, i) => `account ${i}`));
    expect(pool.load).toEqual({ running: 0, queued: 0, accounts: 0 });
  });

  it("evaluates one account's hash once at a time; a burst beyond the few that may wait is refused unevaluated", async () => {
    const pool = new LegacyPool({ concurrency: 4, maxQueued: 100, maxWaitingPerAccount: 3 });
    const { running, task, drain } = gate();
    let evaluated = 0;
    const counted = () => {
      evaluated += 1;
      return task("race3")();
    };
    const all = Array.from({ length: 40 }, () => pool.run("race3", counted));
    await drain(all);
    const results = await Promise.all(all);
    expect(running.mostPerKey).toBe(1);
    expect(results.filter((r) => r === BUSY)).toHaveLength(36);
    expect(evaluated).toBe(4); // one running and three waiting were let through
  });

  it("refuses rather than queue without bound when every slot is taken", async () => {
    const pool = new LegacyPool({ concurrency: 1, maxQueued: 2, maxWaitingPerAccount: 3 });
    const { task, drain } = gate();
    const all = Array.from({ length: 6 }, (_, i) => pool.run(`account ${i}`, task(`account ${i}`)));
    await drain(all);
    expect((await Promise.all(all)).filter((r) => r === BUSY)).toHaveLength(3);
  });

  it("answers busy to a verification that waited longer than maxWaitMs for a slot, and keeps the queue in order", async () => {
    const pool = new LegacyPool({ concurrency: 1, maxQueued: 10, maxWaitingPerAccount: 3, maxWaitMs: 30 });
    let release!: () => void;
    const holding = pool.run("a", () => new Promise<string>((resolve) => (release = () => resolve("a"))));
    expect(await pool.run("b", () => Promise.resolve("b"))).toBe(BUSY);
    expect(pool.load.queued).toBe(0);
    const c = pool.run("c", () => Promise.resolve("c"));
    release();
    expect(await holding).toBe("a");
    expect(await c).toBe("c");
    expect(pool.load).toEqual({ running: 0, queued: 0, accounts: 0 });
  });

  it("frees the slot and the account when a verification throws", async () => {
    const pool = new LegacyPool({ concurrency: 1, maxQueued: 0, maxWaitingPerAccount: 0 });
    await expect(pool.run("a", () => Promise.reject(new Error("bad data")))).rejects.toThrow("bad data");
    expect(await pool.run("a", () => Promise.resolve("ok"))).toBe("ok");
    expect(pool.load).toEqual({ running: 0, queued: 0, accounts: 0 });
  });

  it("takes half the usable threads, at least one", () => {
    expect(defaultLegacyConcurrency({ UV_THREADPOOL_SIZE: "2" }, 2)).toBe(1);
    expect(defaultLegacyConcurrency({}, 2)).toBe(1);
    expect(defaultLegacyConcurrency({}, 8)).toBe(2);
    expect(defaultLegacyConcurrency({ UV_THREADPOOL_SIZE: "8" }, 16)).toBe(4);
    expect(defaultLegacyConcurrency({ UV_THREADPOOL_SIZE: "1" }, 1)).toBe(1);
    // libuv ignores a size of 0 and keeps its 4 threads: so does the pool's share.
    expect(defaultLegacyConcurrency({ UV_THREADPOOL_SIZE: "0" }, 8)).toBe(2);
  });

  it("keeps an account's turn while any of its verifications is in flight: one finishing does not let a newcomer past the one waiting", async () => {
    const pool = new LegacyPool({ concurrency: 4, maxQueued: 10, maxWaitingPerAccount: 3 });
    const releases: Array<() => void> = [];
    let running = 0;
    let most = 0;
    const task = () => async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running -= 1;
    };
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const first = pool.run("acct", task());
    const second = pool.run("acct", task());
    await tick();
    releases.shift()!(); // the first finishes; the second is still in flight
    await first;
    expect(pool.load.accounts).toBe(1);
    const third = pool.run("acct", task()); // arrives while the second runs
    for (let i = 0; i < 5; i += 1) await tick();
    expect(most).toBe(1);
    while (releases.length > 0 || running > 0) {
      releases.splice(0).forEach((release) => release());
      await tick();
    }
    await Promise.all([second, third]);
    expect(most).toBe(1);
    expect(pool.load.accounts).toBe(0);
  });
});
