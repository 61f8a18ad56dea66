import { Worker } from "node:worker_threads";
import type { StoredHash } from "./stored-hash.ts";

/**
 * The threads that verify imported hashes (issue 19.3): worker threads running legacy-worker.mjs at
 * the lowest scheduling priority, made when first needed and kept (unreferenced, so they never hold
 * the process open). How many verify at once is the LegacyPool's decision; this only runs the jobs.
 */
export class LegacyWorkers {
  readonly #idle: Worker[] = [];
  readonly #waiting: Array<(worker: Worker) => void> = [];
  #count = 0;
  #nextId = 0;

  /** `script` is the worker's module: legacy-worker.mjs; a test may give a fixture that answers the same way. */
  constructor(
    readonly max: number,
    readonly script: URL = new URL("./legacy-worker.mjs", import.meta.url),
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
    const all = this.#idle.splice(0);
    this.#count -= all.length;
    await Promise.all(all.map((worker) => worker.terminate()));
  }

  #take(): Promise<Worker> {
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#count < this.max) {
      this.#count += 1;
      const worker = new Worker(this.script);
      worker.unref();
      return Promise.resolve(worker);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #give(worker: Worker, healthy: boolean): void {
    if (!healthy) {
      void worker.terminate();
      this.#count -= 1;
      const next = this.#waiting.shift();
      if (next) void this.#take().then(next);
      return;
    }
    const next = this.#waiting.shift();
    if (next) next(worker);
    else this.#idle.push(worker);
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
