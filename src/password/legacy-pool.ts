import { availableParallelism } from "node:os";
import { LegacyWorkers } from "./legacy-workers.ts";

/**
 * A small bounded pool for verifying imported (legacy) hashes: bcrypt, PBKDF2 and argon2 at
 * parameters other than FAMOS's own, never on the event loop. This pool decides how many threads
 * legacy hashes may hold at once, so that an attacker sending wrong passwords to many imported
 * accounts cannot take the threads (and cores) the argon2id sign-ins of everyone else need (issue
 * 19.3). The verifications themselves run on low-priority worker threads (legacy-workers.ts). Two rules:
 *
 * - at most `concurrency` legacy verifications run at once, the rest wait in a bounded queue;
 * - one account's hash is verified by one request at a time; a few more wait their turn and any
 *   further one is refused without being evaluated, so a burst against one account costs at most
 *   one verification's time on one thread at any moment.
 *
 * A refusal is `"busy"`, which the caller treats as a failed check (the password was not shown to
 * match); nothing waits without bound.
 */
export interface LegacyPoolLimits {
  /** Legacy verifications running at once. */
  concurrency: number;
  /** Verifications waiting for a free slot, over all accounts. */
  maxQueued: number;
  /** Verifications of one account's hash waiting behind the one running. */
  maxWaitingPerAccount: number;
  /** Longest wait for a free slot before "busy" (a sign-in should not hang while others are verified). */
  maxWaitMs?: number;
}

export const BUSY = "busy" as const;

export class LegacyPool {
  #running = 0;
  readonly #queue: Array<(granted: boolean) => void> = [];
  /** Per account (its stored hash): the end of its chain of verifications, and how many are in it. */
  readonly #accounts = new Map<string, { tail: Promise<void>; inFlight: number }>();

  constructor(readonly limits: LegacyPoolLimits) {}

  /** Runs `task` for the account `key` within the limits, or answers "busy" without running it. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T | typeof BUSY> {
    const account = this.#accounts.get(key) ?? { tail: Promise.resolve(), inFlight: 0 };
    if (account.inFlight > this.limits.maxWaitingPerAccount) return BUSY;
    account.inFlight += 1;
    this.#accounts.set(key, account);
    const previous = account.tail;
    let done!: () => void;
    account.tail = new Promise<void>((resolve) => (done = resolve));
    try {
      await previous; // one at a time per account
      if (!(await this.#acquire())) return BUSY;
      try {
        return await task();
      } finally {
        this.#release();
      }
    } finally {
      done();
      account.inFlight -= 1;
      if (account.inFlight === 0) this.#accounts.delete(key);
    }
  }

  /** How many run and wait now (metrics and tests). */
  get load(): { running: number; queued: number; accounts: number } {
    return { running: this.#running, queued: this.#queue.length, accounts: this.#accounts.size };
  }

  async #acquire(): Promise<boolean> {
    if (this.#running < this.limits.concurrency) {
      this.#running += 1;
      return true;
    }
    if (this.#queue.length >= this.limits.maxQueued) return false;
    // The releasing task hands its slot over directly, so #running stays counted.
    return new Promise<boolean>((resolve) => {
      const wait = this.limits.maxWaitMs;
      const timer = wait === undefined ? undefined : setTimeout(() => {
        const index = this.#queue.indexOf(grant);
        if (index >= 0) this.#queue.splice(index, 1);
        resolve(false);
      }, wait);
      timer?.unref();
      const grant = (granted: boolean) => {
        clearTimeout(timer);
        resolve(granted);
      };
      this.#queue.push(grant);
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next(true);
    else this.#running -= 1;
  }
}

/**
 * Half the threads that can really run at once (the smaller of libuv's pool and the cores), at
 * least one: on the recommended 2-core setting (`UV_THREADPOOL_SIZE=2`) legacy hashes get one
 * thread and argon2id sign-ins always have the other.
 */
export function defaultLegacyConcurrency(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number {
  const pool = Number(env.UV_THREADPOOL_SIZE) > 0 ? Number(env.UV_THREADPOOL_SIZE) : 4;
  return Math.max(1, Math.floor(Math.min(pool, cores) / 2));
}

/** The process's pool: libuv's thread pool, which it shares out, is per process too. */
export const legacyPool = new LegacyPool({ concurrency: defaultLegacyConcurrency(), maxQueued: 64, maxWaitingPerAccount: 3, maxWaitMs: 20_000 });

/** The worker threads the process's pool runs its verifications on, as many as it lets run at once. */
export const legacyWorkers = new LegacyWorkers(legacyPool.limits.concurrency);
