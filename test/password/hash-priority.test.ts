import { execFile } from "node:child_process";
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
  result: { found: number; lowered: number };
  after: Record<string, number>;
  verified: boolean;
}

async function seen(env: Record<string, string> = {}): Promise<Seen> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", child], { env: { ...process.env, ...env }, timeout: 60_000 });
  return JSON.parse(stdout.trim()) as Seen;
}

describe("password hashing yields the CPU to the event loop (issue 17)", () => {
  it("lowers every thread of libuv's pool, and only those, to nice 10; hashing still works", async () => {
    const s = await seen();
    expect(s.pool).toHaveLength(4);
    expect(s.result).toEqual({ found: 4, lowered: 4 });
    for (const tid of s.pool) {
      expect(s.before[tid]).toBe(0);
      expect(s.after[tid]).toBe(HASHING_NICENESS);
    }
    // The event loop (the main thread) and every other thread keep their priority.
    expect(s.after[s.pid]).toBe(s.before[s.pid]);
    for (const [tid, priority] of Object.entries(s.after)) if (!s.pool.includes(Number(tid)) && tid in s.before) expect(priority).toBe(s.before[tid]);
    expect(s.verified).toBe(true);
  });

  it("finds a pool of the size UV_THREADPOOL_SIZE sets", async () => {
    const s = await seen({ UV_THREADPOOL_SIZE: "2" });
    expect(s.result).toEqual({ found: 2, lowered: 2 });
  });

  it("keeps FAMOS's own hashes below the event loop and above the legacy-hash workers (issue 19.3)", () => {
    expect(HASHING_NICENESS).toBe(10);
    const worker = readFileSync(new URL("../../src/password/legacy-worker.mjs", import.meta.url), "utf8");
    expect(/setPriority\(threadId, (\d+)\)/.exec(worker)?.[1]).toBe(String(LEGACY_HASHING_NICENESS));
    expect(LEGACY_HASHING_NICENESS).toBeGreaterThan(HASHING_NICENESS);
  });
});
