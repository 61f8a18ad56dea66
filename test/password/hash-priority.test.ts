import { execFile } from "node:child_process";
import { getPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { HASHING_NICENESS, LEGACY_HASHING_NICENESS } from "../../src/password/hash-priority.ts";

const run = promisify(execFile);
const child = fileURLToPath(new URL("./fixtures/hash-priority-child.ts", import.meta.url));

interface Seen {
  pid: number;
  pool: number[];
  before: Record<string, number>;
  result: { found: number; lowered: number; niceness: number };
  after: Record<string, number>;
  verified: boolean;
}

/** What the child saw; started at `nice` (as the operator's `nice -n` or systemd's Nice= would) when given. */
async function seen(env: Record<string, string> = {}, nice?: number): Promise<Seen> {
  const command = [process.execPath, "--import", "tsx", child];
  const [file, ...args] = nice === undefined ? command : ["nice", "-n", String(nice), ...command];
  const { stdout } = await run(file!, args, { env: { ...process.env, ...env }, timeout: 60_000 });
  return JSON.parse(stdout.trim()) as Seen;
}

describe("password hashing yields the CPU to the event loop (issue 17)", () => {
  it("lowers every thread of libuv's pool, and only those, to nice 10; hashing still works", async () => {
    const s = await seen();
    expect(s.pool).toHaveLength(4);
    expect(s.result).toEqual({ found: 4, lowered: 4, niceness: Math.min(19, s.before[s.pid]! + HASHING_NICENESS) });
    const started = s.before[s.pid]!;
    for (const tid of s.pool) {
      expect(s.before[tid]).toBe(started);
      expect(s.after[tid]).toBe(Math.min(19, started + HASHING_NICENESS));
    }
    // The event loop (the main thread) and every other thread keep their priority.
    expect(s.after[s.pid]).toBe(s.before[s.pid]);
    for (const [tid, priority] of Object.entries(s.after)) if (!s.pool.includes(Number(tid)) && tid in s.before) expect(priority).toBe(s.before[tid]);
    expect(s.verified).toBe(true);
  });

  it("started at nice 15 (systemd's Nice=15), puts hashes at 19, never above the event loop", async () => {
    const s = await seen({}, 15);
    expect(s.before[s.pid]).toBe(Math.min(19, getPriority() + 15)); // nice -n adds to this process's own
    expect(s.result).toEqual({ found: 4, lowered: 4, niceness: 19 });
    for (const tid of s.pool) expect(s.after[tid]).toBe(19);
    expect(s.after[s.pid]).toBe(s.before[s.pid]);
    expect(s.verified).toBe(true);
  });

  it("finds a pool of the size UV_THREADPOOL_SIZE sets", async () => {
    const s = await seen({ UV_THREADPOOL_SIZE: "2" });
    expect(s.result).toMatchObject({ found: 2, lowered: 2 });
  });

  it("keeps FAMOS's own hashes below the event loop and above the legacy-hash workers (issue 19.3)", () => {
    expect(HASHING_NICENESS).toBe(10);
    const worker = readFileSync(new URL("../../src/password/legacy-worker.mjs", import.meta.url), "utf8");
    expect(/setPriority\(threadId, (\d+)\)/.exec(worker)?.[1]).toBe(String(LEGACY_HASHING_NICENESS));
    expect(LEGACY_HASHING_NICENESS).toBeGreaterThan(HASHING_NICENESS);
  });
});
