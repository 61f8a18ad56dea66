import { once } from "node:events";
import { Worker } from "node:worker_threads";
import type SQLite from "better-sqlite3";

/**
 * Issue 17: SQLite in WAL mode checkpoints on the connection that commits, in the commit that passes
 * 1,000 pages of log: it copies those pages into the database file and syncs both files, tens of
 * milliseconds during which the server's one thread answered nobody (the bench's commit p99 was
 * 20 ms against a p50 of 0.2 ms, two thirds of the SQL time). `famos serve` moves the checkpoints to
 * a thread of their own (checkpoint-worker.mjs) that copies what is committed every second without
 * waiting for the server or making it wait. A checkpoint completes only if nothing is committed while
 * it copies (the writer starts the log again from its start after one that did), so under commits
 * that never pause the serving connection keeps SQLite's own checkpoint, past BOUND_PAGES of log, as
 * the bound on its size: by then the thread has copied all but the last few pages. If a checkpoint of
 * the thread's fails (a full disk), the connection takes the checkpoints back at SQLite's usual 1,000
 * pages and `onError` is told; the thread goes on trying, and its first checkpoint that succeeds gives
 * them back to it (`onResume`). If the thread itself fails, the connection keeps them.
 */
export const CHECKPOINT_INTERVAL_MS = 1000;
export const BOUND_PAGES = 10_000;
export const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** One checkpoint's result: frames in the log, and how many of them are now in the database file. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface CheckpointOptions {
  intervalMs?: number;
  /** The log's size, in pages, past which the serving connection checkpoints by itself (BOUND_PAGES). */
  boundPages?: number;
  /**
   * A checkpoint failed (`forGood` false: the thread tries again), or the thread did (true): the serving
   * connection checkpoints meanwhile. Told once until `onResume`.
   */
  onError?: (error: Error, forGood: boolean) => void;
  /** The thread's first checkpoint that succeeded after one that failed: the checkpoints are its own again. */
  onResume?: () => void;
  onCheckpoint?: (result: CheckpointResult) => void;
  /** Tests: a worker module that answers in the same way (checkpoint-worker.mjs by default). */
  script?: URL;
}

export interface BackgroundCheckpoints {
  /** Resolves once the thread has opened the database. */
  readonly ready: Promise<void>;
  /**
   * Asks for a checkpoint now (tests, and before a backup); its result goes to `onCheckpoint`. Resolves
   * once the thread has answered it, with a result or a fault (a fault is told to `onError` only once
   * until `onResume`), or at once when the thread is stopping or gone.
   */
  checkpointNow(): Promise<void>;
  /** Stops the thread and closes its connection; the server's connection then checkpoints at close. */
  stop(): Promise<void>;
}

export function checkpointInBackground(database: SQLite.Database, path: string, options: CheckpointOptions = {}): BackgroundCheckpoints {
  const worker = new Worker(options.script ?? new URL("./checkpoint-worker.mjs", import.meta.url), {
    workerData: { path, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS },
    // It holds no data of its own: a small heap keeps the thread at a few megabytes.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  worker.unref();
  database.pragma(`wal_autocheckpoint = ${options.boundPages ?? BOUND_PAGES}`);
  let stopping = false;
  // The thread has ended: for good.
  let failed = false;
  // A checkpoint of the thread's failed, and none has succeeded since.
  let failing = false;
  const autocheckpoint = (pages: number) => {
    if (database.open) database.pragma(`wal_autocheckpoint = ${pages}`);
  };
  const takeBack = (error: Error, forGood: boolean) => {
    if (stopping || failed) return;
    failed = forGood;
    if (failing) return;
    failing = true;
    autocheckpoint(SQLITE_AUTOCHECKPOINT_PAGES);
    options.onError?.(error, forGood);
  };
  // checkpointNow's callers, oldest first: the thread answers its messages in order.
  let asking: Array<() => void> = [];
  const answerAll = () => {
    for (const answered of asking) answered();
    asking = [];
  };
  type Answer = { asked?: boolean } & (CheckpointResult | { failed: { message: string; code?: string } });
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (message: Answer | { ready: true }) => {
      if ("ready" in message) return resolve();
      const { asked, ...answer } = message;
      if ("failed" in answer) takeBack(Object.assign(new Error(answer.failed.message), { code: answer.failed.code }), false);
      else {
        if (failing && !failed && !stopping) {
          failing = false;
          autocheckpoint(options.boundPages ?? BOUND_PAGES);
          options.onResume?.();
        }
        options.onCheckpoint?.(answer);
      }
      if (asked) asking.shift()?.();
    });
    worker.on("error", (error) => {
      takeBack(error, true);
      reject(error);
    });
    worker.on("exit", (code) => {
      const error = new Error(`the checkpoint thread stopped (exit code ${code})`);
      takeBack(error, true);
      answerAll();
      reject(error);
    });
  });
  // A failure is reported through onError; `ready` rejecting must not also end the process.
  ready.catch(() => undefined);
  return {
    ready,
    checkpointNow: () => {
      if (stopping || failed) return Promise.resolve();
      const answered = new Promise<void>((resolve) => asking.push(resolve));
      worker.postMessage("checkpoint");
      return answered;
    },
    stop: async () => {
      if (stopping) return;
      stopping = true;
      if (failed) return;
      const exited = once(worker, "exit");
      worker.postMessage("stop");
      const timeout = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
