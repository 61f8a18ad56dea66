import { pbkdf2 } from "node:crypto";
import { existsSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { findPoolThreads, HASHING_NICENESS, hashingNiceness, lowerHashingPriority, threadPoolSize } from "../../src/password/hash-priority.ts";

/**
 * The parts of hash-priority.ts that run in this process (the unit tier, where mutation testing sees
 * them): the pool's size as libuv reads it, finding the pool's threads, lowering them. The child
 * process of hash-priority.test.ts checks the whole of it in a fresh process (`famos serve`'s case).
 */
describe("the hashing threads' priority, in this process (issue 17)", () => {
  it("reads the pool's size as libuv does: UV_THREADPOOL_SIZE when a whole number above 0, at most 1024, else 4", () => {
    expect(threadPoolSize({})).toBe(4);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: "2" })).toBe(2);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: "1" })).toBe(1);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: "1024" })).toBe(1024);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: "5000" })).toBe(1024);
    for (const wrong of ["0", "-3", "2.5", "x", "four", ""]) expect(threadPoolSize({ UV_THREADPOOL_SIZE: wrong }), wrong).toBe(4);
  });

  it("finds every one of the pool's threads: threads of this process, never its main thread, each once", async () => {
    const size = threadPoolSize();
    const threads = await findPoolThreads(size);
    expect(threads).toHaveLength(size);
    expect(new Set(threads).size).toBe(size);
    for (const tid of threads) {
      expect(Number.isInteger(tid) && tid > 0).toBe(true);
      expect(tid).not.toBe(process.pid);
      expect(existsSync(`/proc/self/task/${tid}`), String(tid)).toBe(true);
    }
    // Asked for fewer, it stops once that many answered; given no rounds, it finds none.
    expect((await findPoolThreads(1)).length).toBeGreaterThanOrEqual(1);
    expect(await findPoolThreads(size, 0)).toEqual([]);
  });

  it("finds a thread that is busy with a hash while it starts asking (a hash of another test, or of a sign-in, tens of milliseconds under load)", async () => {
    const size = threadPoolSize();
    // One pool thread held ~100 ms by a key derivation (libuv's pool, like argon2id's), started first.
    // Up to 10 s of rounds (500), not the product's 0.8 s: on a loaded CI machine, with this worker's
    // pool threads lowered to nice 10 by an app an earlier file started, the derivation took longer
    // than 0.8 s (red once in a whole-suite run at load 14). The property is that it keeps asking,
    // paced, until the busy thread is free, and stops as soon as every thread has answered.
    const busy = new Promise((resolve) => pbkdf2("password", "salt", 150_000, 64, "sha512", resolve));
    const threads = await findPoolThreads(size, 500);
    await busy;
    expect(threads).toHaveLength(size);
  });

  it("puts hashes HASHING_NICENESS below the process as started, at most 19, never above it", () => {
    expect(HASHING_NICENESS).toBe(10);
    expect([-5, 0, 5, 9, 10, 15, 19].map(hashingNiceness)).toEqual([5, 10, 15, 19, 19, 19, 19]);
  });

  it("lowers the pool's threads to nice 10 and leaves the main thread as it was", async () => {
    const size = threadPoolSize();
    const threads = await findPoolThreads(size);
    const before = new Map(threads.map((tid) => [tid, getPriority(tid)]));
    const main = getPriority(process.pid);
    try {
      expect(await lowerHashingPriority(size)).toEqual({ found: size, lowered: size, niceness: hashingNiceness(main) });
      for (const tid of threads) expect(getPriority(tid), String(tid)).toBe(Math.min(19, main + HASHING_NICENESS));
      expect(getPriority(process.pid)).toBe(main);
    } finally {
      // This test process's other tests hash too: their threads go back where they were (as root).
      for (const [tid, nice] of before) {
        try {
          setPriority(tid, nice);
        } catch {
          // Not permitted without CAP_SYS_NICE: the pool stays at nice 10, which only lowers its priority.
        }
      }
    }
  });
});
