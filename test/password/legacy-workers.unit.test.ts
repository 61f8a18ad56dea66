import { BroadcastChannel, type Worker } from "node:worker_threads";
import { hashSync as bcryptHashSync } from "@node-rs/bcrypt";
import { describe, expect, it } from "vitest";
import { LegacyWorkers } from "../../src/password/legacy-workers.ts";
import type { StoredHash } from "../../src/password/stored-hash.ts";

/**
 * The worker threads that verify imported hashes (issue 19.3), driven directly: at most `max` threads,
 * a healthy one kept for the next job, a faulted one terminated and replaced, stray answers ignored,
 * no listeners left behind, an idle one that fails leaves the pool harmlessly, close() ends the idle
 * ones. The real worker checks cheap bcrypt (cost 4); fixtures/legacy-worker-fixture.mjs misbehaves on
 * request ("exit", "throw", "stray"; "right" matches; "fail idle: …" on its channel while it waits).
 */

const PASSWORD = "correct horse battery staple";
const BCRYPT: StoredHash = { kind: "bcrypt", cost: 4, hash: bcryptHashSync(PASSWORD, 4) };
const FIXTURE = new URL("./fixtures/legacy-worker-fixture.mjs", import.meta.url);
// Shorter than the tier's 30 s, so a mutant that leaves a job unsettled fails sooner; not 5 s: a CI run
// beside a loaded machine took 6.8 s for the first case (a real Worker's start and module load).
const QUICK = 20_000;

/** Runs `body` with `workers`, and closes them whatever happens. */
async function withWorkers(workers: LegacyWorkers, body: (workers: LegacyWorkers) => Promise<void>): Promise<void> {
  try {
    await body(workers);
  } finally {
    await workers.close();
  }
}

/** Every worker thread the LegacyWorkers of this file made (`made`), in order: whether it is alive, and its end. */
const made: Array<{ alive: boolean; ended: Promise<void> }> = [];
function follow(worker: Worker): void {
  let ended = () => {};
  const thread = { alive: true, ended: new Promise<void>((resolve) => (ended = resolve)) };
  worker.once("exit", () => {
    thread.alive = false;
    ended();
  });
  made.push(thread);
}

/**
 * The threads made from now on (a crashed one of an earlier test may still be ending): how many are
 * alive, and the ends of those. Node's own 'exit' of each Worker, not a ping answered within a while.
 */
function threadsFromNow() {
  const from = made.length;
  const mine = () => made.slice(from);
  return { alive: () => mine().filter((t) => t.alive).length, ends: () => Promise.all(mine().filter((t) => t.alive).map((t) => t.ended)) };
}

describe("issue 19.3: the legacy worker threads", () => {
  it("runs at most `max` threads, and keeps a healthy one for the next job", async () => {
    await withWorkers(new LegacyWorkers(1), async (workers) => {
      const jobs = [PASSWORD, "wrong", PASSWORD].map((password) => workers.verify(BCRYPT, password));
      expect(workers.threads).toBe(1); // the two others wait for it
      expect(await Promise.all(jobs)).toEqual([true, false, true]);
      expect(workers.threads).toBe(1);
      expect(await workers.verify(BCRYPT, PASSWORD)).toBe(true);
      expect(workers.threads).toBe(1);
    });
  }, QUICK);

  it("makes a second thread only up to `max`", async () => {
    await withWorkers(new LegacyWorkers(2, FIXTURE, follow), async (workers) => {
      const jobs = ["right", "right", "wrong", "right"].map((password) => workers.verify(BCRYPT, password));
      expect(workers.threads).toBe(2);
      expect(await Promise.all(jobs)).toEqual([true, true, false, true]);
      expect(workers.threads).toBe(2);
    });
  }, QUICK);

  it("answers false when the worker exits mid-job, replaces it, and gives a waiting job the fresh thread", async () => {
    await withWorkers(new LegacyWorkers(1, FIXTURE, follow), async (workers) => {
      const crashed = workers.verify(BCRYPT, "exit");
      const waiting = workers.verify(BCRYPT, "right");
      expect(await crashed).toBe(false);
      expect(await waiting).toBe(true);
      expect(workers.threads).toBe(1);
      expect(await workers.verify(BCRYPT, "right")).toBe(true);
      // A crash with nobody waiting leaves no thread behind, and the next job makes one.
      expect(await workers.verify(BCRYPT, "exit")).toBe(false);
      expect(workers.threads).toBe(0);
      expect(await workers.verify(BCRYPT, "right")).toBe(true);
      expect(workers.threads).toBe(1);
    });
  }, QUICK);

  it("answers false when the worker throws (its 'error'), without crashing the process, and carries on", async () => {
    await withWorkers(new LegacyWorkers(1, FIXTURE, follow), async (workers) => {
      expect(await workers.verify(BCRYPT, "throw")).toBe(false);
      expect(workers.threads).toBe(0);
      expect(await workers.verify(BCRYPT, "right")).toBe(true);
    });
  }, QUICK);

  it("ignores an answer carrying another job's id", async () => {
    await withWorkers(new LegacyWorkers(1, FIXTURE, follow), async (workers) => {
      expect(await workers.verify(BCRYPT, "stray")).toBe(false);
      expect(await workers.verify(BCRYPT, "right")).toBe(true);
    });
  }, QUICK);

  it("removes each job's listeners: many jobs on one thread raise no MaxListenersExceededWarning", async () => {
    const workers = new LegacyWorkers(1, FIXTURE, follow);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 12; i += 1) expect(await workers.verify(BCRYPT, i % 2 ? "right" : "wrong")).toBe(i % 2 === 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name)).toEqual([]);
      expect(workers.threads).toBe(1);
    } finally {
      process.off("warning", onWarning);
      await workers.close();
    }
  }, QUICK);

  for (const how of ["throw", "exit"] as const) {
    it(`lets an idle thread that fails (${how}) leave the pool without ending the process, and gives the next job a fresh thread`, async () => {
      // An idle thread's 'error' with nobody listening is thrown again in this process: it would end `famos serve`.
      const crashes: unknown[] = [];
      const onCrash = (error: unknown) => crashes.push(error);
      process.on("uncaughtException", onCrash);
      try {
        await withWorkers(new LegacyWorkers(1, FIXTURE, follow), async (workers) => {
          const threads = threadsFromNow();
          expect(await workers.verify(BCRYPT, "right")).toBe(true);
          expect(workers.threads).toBe(1);
          expect(threads.alive()).toBe(1);
          const channel = new BroadcastChannel("legacy-fixture");
          channel.postMessage(`fail idle: ${how}`);
          channel.close();
          await threads.ends();
          expect(threads.alive()).toBe(0);
          expect(crashes).toEqual([]);
          expect(workers.threads).toBe(0);
          // Not handed to the dead thread (no answer would ever come): a fresh one answers.
          expect(await workers.verify(BCRYPT, "right")).toBe(true);
          expect(await workers.verify(BCRYPT, "wrong")).toBe(false);
          expect(workers.threads).toBe(1);
        });
      } finally {
        process.off("uncaughtException", onCrash);
      }
    }, 3 * QUICK);
  }

  it("close() terminates the idle threads", async () => {
    const threads = threadsFromNow();
    const workers = new LegacyWorkers(2, FIXTURE, follow);
    await Promise.all([workers.verify(BCRYPT, "right"), workers.verify(BCRYPT, "right")]);
    expect(workers.threads).toBe(2);
    expect(threads.alive()).toBe(2);
    await workers.close();
    expect(workers.threads).toBe(0);
    expect(threads.alive()).toBe(0);
  }, QUICK);
});
