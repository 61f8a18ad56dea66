import { Worker } from "node:worker_threads";
import type { StoredHash } from "./stored-hash.ts";

/**
 * The threads that verify imported hashes (issue 19.3): worker threads running legacy-worker.mjs at
 * the lowest scheduling priority, made when first needed and kept (unreferenced, so they never hold
 * the process open). How many verify at once is the LegacyPool's decision; this only runs the jobs.
 *
 * A thread is always listened to: while it runs a job (#run) and while it waits (#idle). One that
 * fails between jobs (out of memory, ended from outside) leaves the pool then: an 'error' nobody
 * listened to would be thrown again on the main thread and end `famos serve`, and a thread that has
 * exited, handed the next job, would never answer it.
 */
export class LegacyWorkers {
  /** Threads waiting for a job, each with the listener that retires it should it fail meanwhile. */
  readonly #idle = new Map<Worker, () => void>();
  readonly #waiting: Array<(worker: Worker) => void> = [];
  #count = 0;
  #nextId = 0;

  /**
   * `script` is the worker's module: legacy-worker.mjs; a test may give a fixture that answers the same way.
   * `made` is told of each thread as it is made: a test follows its exit, rather than asking the threads.
   */
  constructor(
    readonly max: number,
    readonly script: URL = new URL("./legacy-worker.mjs", import.meta.url),
    readonly made: (worker: Worker) => void = () => {},
  ) {}

  /** Worker threads made and not yet terminated (idle or busy): never more than `max`. */
  get threads(): number {
    return this.#count;
  }

  /** True when `password` matches; false for no match and for any fault in the worker. */
  async verify(stored: StoredHash, password: string): Promise<boolean> {
    const worker = await this.#take();
    let healthy = true;
    try {
      return await this.#run(worker, jobFor(stored, password, (this.#nextId += 1)));
    } catch {
      healthy = false;
      return false;
    } finally {
      this.#give(worker, healthy);
    }
  }

  async close(): Promise<void> {
    const all = [...this.#idle.keys()];
    for (const worker of all) this.#wake(worker);
    this.#count -= all.length;
    await Promise.all(all.map((worker) => worker.terminate()));
  }

  #take(): Promise<Worker> {
    const idle = [...this.#idle.keys()].pop();
    if (idle) {
      this.#wake(idle);
      return Promise.resolve(idle);
    }
    if (this.#count < this.max) {
      this.#count += 1;
      const worker = new Worker(this.script);
      worker.unref();
      this.made(worker);
      return Promise.resolve(worker);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #give(worker: Worker, healthy: boolean): void {
    if (!healthy) {
      this.#retire(worker);
      return;
    }
    const next = this.#waiting.shift();
    if (next) next(worker);
    else this.#rest(worker);
  }

  /** Ends a thread that failed and frees its place; a job waiting for one gets a fresh thread. */
  #retire(worker: Worker): void {
    void worker.terminate();
    this.#count -= 1;
    const next = this.#waiting.shift();
    if (next) void this.#take().then(next);
  }

  /** Keeps a healthy thread for the next job, listening for its failure meanwhile ('error', then 'exit'). */
  #rest(worker: Worker): void {
    const onFailure = () => {
      this.#wake(worker);
      this.#retire(worker);
    };
    worker.on("error", onFailure);
    worker.on("exit", onFailure);
    this.#idle.set(worker, onFailure);
  }

  /** Takes a thread out of #idle, with its idle listeners (a job has listeners of its own). */
  #wake(worker: Worker): void {
    const onFailure = this.#idle.get(worker);
    if (!onFailure) return;
    this.#idle.delete(worker);
    worker.off("error", onFailure);
    worker.off("exit", onFailure);
  }

  #run(worker: Worker, job: Job): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const onMessage = (answer: { id: number; ok: boolean }) => {
        if (answer.id !== job.id) return;
        done();
        resolve(answer.ok === true);
      };
      const onFailure = (error: unknown) => {
        done();
        reject(error instanceof Error ? error : new Error(`legacy worker stopped (${String(error)})`));
      };
      const done = () => {
        worker.off("message", onMessage);
        worker.off("error", onFailure);
        worker.off("exit", onFailure);
      };
      worker.on("message", onMessage);
      worker.on("error", onFailure);
      worker.on("exit", onFailure);
      worker.postMessage(job);
    });
  }
}

type Job = { id: number; password: string } & (
  | { kind: "bcrypt"; hash: string }
  | { kind: "pbkdf2_sha256"; iterations: number; salt: string; hash: Uint8Array }
  | { kind: "argon2"; phc: string }
);

/** The job as the worker reads it. argon2 takes the password in NFC, as FAMOS hashes it (hash.ts). */
function jobFor(stored: StoredHash, password: string, id: number): Job {
  switch (stored.kind) {
    case "bcrypt":
      return { id, password, kind: "bcrypt", hash: stored.hash };
    case "pbkdf2_sha256":
      return { id, password, kind: "pbkdf2_sha256", iterations: stored.iterations, salt: stored.salt, hash: stored.hash };
    case "argon2":
      return { id, password: password.normalize("NFC"), kind: "argon2", phc: stored.phc };
  }
}
