import { hash as argon2Hash, verify as argon2Verify, type Algorithm, type Options, type Version } from "@node-rs/argon2";
import { describe, expect, it } from "vitest";
import { ARGON2ID_PARAMETERS, Gate, hashConcurrency, hashPassword, verifyPassword } from "../../src/password/hash.ts";
import { LegacyPool } from "../../src/password/legacy-pool.ts";

/**
 * The limits on password work (issue 17, issue 19.3) at their home, src/password/hash.ts: the gate
 * every argon2id computation passes (one per core, first come first served), which stored hashes
 * skip the legacy pool (exactly FAMOS's own), and which are upgraded after the right password.
 */

const PASSWORD = "correct horse battery staple";
// @node-rs/argon2's Algorithm and Version are const enums, which isolated modules cannot read.
const ARGON2D = 0 as Algorithm;
const ARGON2I = 1 as Algorithm;
const ARGON2ID = 2 as Algorithm;
const V16 = 0 as Version;
const OWN: Options = { algorithm: ARGON2ID, ...ARGON2ID_PARAMETERS };
const stored = (options: Options = {}) => argon2Hash(PASSWORD, { ...OWN, ...options });

/** A legacy pool whose one slot is held and where nothing may wait: anything sent to it is answered busy. */
function blockedPool() {
  const pool = new LegacyPool({ concurrency: 1, maxQueued: 0, maxWaitingPerAccount: 0 });
  let release!: () => void;
  const held = pool.run("someone else", () => new Promise<void>((resolve) => (release = resolve)));
  return { pool, free: async () => (release(), await held) };
}

describe("the argon2id gate", () => {
  it("takes one place per core, at most UV_THREADPOOL_SIZE, at least one", () => {
    expect(hashConcurrency({}, 2)).toBe(2);
    expect(hashConcurrency({}, 8)).toBe(8);
    expect(hashConcurrency({ UV_THREADPOOL_SIZE: "1" }, 4)).toBe(1);
    expect(hashConcurrency({ UV_THREADPOOL_SIZE: "8" }, 2)).toBe(2);
    expect(hashConcurrency({ UV_THREADPOOL_SIZE: "0" }, 4)).toBe(4);
    expect(hashConcurrency({ UV_THREADPOOL_SIZE: "many" }, 4)).toBe(4);
    expect(hashConcurrency({}, 0)).toBe(1);
  });

  it("runs at most `size` at once, lets the others in by order of arrival, and gives each place back", async () => {
    const gate = new Gate(2);
    const running = new Set<number>();
    const started: number[] = [];
    let most = 0;
    const releases = new Map<number, () => void>();
    const work = (i: number) => () =>
      new Promise<number>((resolve) => {
        running.add(i);
        started.push(i);
        most = Math.max(most, running.size);
        releases.set(i, () => (running.delete(i), resolve(i)));
      });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const all = [0, 1, 2, 3, 4].map((i) => gate.run(work(i)));
    await settle();
    expect(started).toEqual([0, 1]);
    releases.get(1)!();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    releases.get(0)!();
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    releases.get(3)!();
    releases.get(2)!();
    await settle();
    releases.get(4)!();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    // Every place came back: two run at once again, and no third.
    const again = [5, 6, 7].map((i) => gate.run(work(i)));
    await settle();
    expect(started.slice(5)).toEqual([5, 6]);
    [5, 6].forEach((i) => releases.get(i)!());
    await settle();
    releases.get(7)!();
    await Promise.all(again);
    expect(most).toBe(2);
  });

  it("gives the place back when the work fails", async () => {
    const gate = new Gate(1);
    await expect(gate.run(() => Promise.reject(new Error("bad data")))).rejects.toThrow("bad data");
    expect(await gate.run(async () => "next")).toBe("next");
  });
});

describe("which hashes skip the legacy pool, and which are upgraded", () => {
  it("verifies exactly FAMOS's own argon2id (v19, m=19456, t=2, p=1) past the pool; any other parameter goes through it", async () => {
    const { pool, free } = blockedPool();
    try {
      expect(await verifyPassword(await stored(), PASSWORD, pool)).toEqual({ ok: true, needsUpgrade: false });
      for (const other of [
        await stored({ parallelism: 2 }),
        await stored({ timeCost: 3 }),
        await stored({ memoryCost: 19_457 }),
        await stored({ memoryCost: 19_448 }),
        await stored({ version: V16 }),
        await stored({ algorithm: ARGON2I }),
        await stored({ algorithm: ARGON2D }),
      ]) {
        expect(await verifyPassword(other, PASSWORD, pool)).toEqual({ ok: false, needsUpgrade: false, busy: true });
      }
    } finally {
      await free();
    }
  });

  it("upgrades argon2id of an older version; not one with more passes at today's memory", async () => {
    // (Less memory, fewer passes and argon2i are in hash.test.ts; these go through the legacy pool's worker.)
    const morePasses = await stored({ timeCost: 3 });
    expect(await verifyPassword(morePasses, PASSWORD)).toEqual({ ok: true, needsUpgrade: false });
    const version16 = await stored({ version: V16 });
    expect(await verifyPassword(version16, PASSWORD)).toEqual({ ok: true, needsUpgrade: true });
    expect(await verifyPassword(version16, "not the password")).toEqual({ ok: false, needsUpgrade: false });
  });

  it("upgrades an imported argon2i or argon2d hash at FAMOS's own parameters: only argon2id is kept", async () => {
    for (const algorithm of [ARGON2I, ARGON2D]) {
      const other = await stored({ algorithm });
      expect(await verifyPassword(other, PASSWORD)).toEqual({ ok: true, needsUpgrade: true });
    }
  });

  it("never answers a match when the argon2id check itself faults", async () => {
    // @node-rs/argon2 2.2.1's parseOptions (which the parser calls) and verify share the PHC decoder and
    // its checks: every corrupted standard value tried (odd hash length, stray low bits, salt of 4 to
    // 100,000 bytes, hash of 16 to 1,923 bytes, zero-padded m/t/p) is refused by both or verified false
    // by the library, never thrown by verify alone. What is left to fault is the check's input: an
    // untyped caller's missing password.
    const own = await stored();
    for (const missing of [undefined, null, 42]) {
      expect(await verifyPassword(own, missing as unknown as string)).toEqual({ ok: false, needsUpgrade: false });
    }
    const [, , version, parameters, salt, hash = ""] = own.split("$");
    for (const corrupted of [`${hash}AB`, `${hash.slice(0, -1)}${hash.endsWith("B") ? "C" : "B"}`, hash.slice(0, 25)]) {
      expect(await verifyPassword(`$argon2id$${version}$${parameters}$${salt}$${corrupted}`, PASSWORD)).toEqual({ ok: false, needsUpgrade: false });
    }
  });

  it("hashes the password in NFC, however its accents were typed", async () => {
    const composed = "crème brûlée au café".normalize("NFC");
    const hash = await hashPassword(composed.normalize("NFD"));
    expect(await argon2Verify(hash, composed)).toBe(true);
    expect(await verifyPassword(hash, composed)).toEqual({ ok: true, needsUpgrade: false });
  });
});
