import { readlink } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Issue 17: argon2id runs on libuv's thread pool, and on a machine with as many hashes running as
 * cores, every page and every code mail waited for a core behind them (mail p95 142 ms at 8 virtual
 * users on 2 cores, most of it queueing). At nice 10 the pool's threads weigh a ninth of the event
 * loop: the scheduler gives the event loop a core as soon as it has work, the hashes still use every
 * idle moment, and the gate in hash.ts still bounds how many run at once. Not 19: the legacy-hash
 * workers (legacy-worker.mjs, issue 19.3) sit there, below FAMOS's own argon2id, so that wrong
 * passwords sent to imported accounts still take only CPU time that everyone else's sign-in does not
 * want (nice 10 weighs about seven times nice 19).
 */
export const HASHING_NICENESS = 10;
/** The legacy-hash workers' own niceness (legacy-worker.mjs), kept below HASHING_NICENESS. */
export const LEGACY_HASHING_NICENESS = 19;

/** libuv's pool size as libuv reads it when the pool starts: UV_THREADPOOL_SIZE, default 4, at most 1024. */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? Math.min(size, 1024) : 4;
}

/**
 * The id of whichever pool thread runs this call: an asynchronous readlink runs on a pool thread, and
 * Linux's /proc/thread-self names the thread that reads it ("<pid>/task/<tid>"). Null off Linux.
 */
function poolThreadId(): Promise<number | null> {
  return new Promise((resolve) =>
    readlink("/proc/thread-self", (error, target) => {
      const id = error ? Number.NaN : Number(target.split("/").pop());
      resolve(Number.isInteger(id) && id > 0 && id !== process.pid ? id : null);
    }),
  );
}

/**
 * The ids of the pool's threads, found by asking until every one has answered (the pool hands
 * queued calls to whichever thread is free; a few rounds reach all of them, and a round takes
 * microseconds). Empty off Linux. After QUICK_ROUNDS the rounds are ROUND_PAUSE_MS apart, so a thread
 * busy with a hash (tens of milliseconds on a loaded machine) is found once it is done, within 0.8 s;
 * one busy for every round stays unfound (its priority is left as it is).
 */
export async function findPoolThreads(size = threadPoolSize(), maxRounds = 50): Promise<number[]> {
  const found = new Set<number>();
  for (let round = 0; round < maxRounds && found.size < size; round += 1) {
    if (round >= QUICK_ROUNDS) await sleep(ROUND_PAUSE_MS);
    const ids = await Promise.all(Array.from({ length: size * 4 }, poolThreadId));
    if (ids.every((id) => id === null)) break;
    for (const id of ids) if (id !== null) found.add(id);
  }
  return [...found];
}

const QUICK_ROUNDS = 10;
const ROUND_PAUSE_MS = 20;

/** The lowest scheduling priority Linux has (nice 19). */
const LOWEST = 19;

/**
 * The niceness a pool thread is given: HASHING_NICENESS below the niceness it has (the process's, as
 * started: `nice`, systemd's Nice=), at most 19. Relative, so that hashes stay below the event loop
 * whatever the operator started the process at, and never raised above it: an absolute nice 10 given
 * to a process started at nice 15 would put the hashes ahead of the pages (as root, or nothing at all
 * as an ordinary user, who may not raise a priority).
 */
export function hashingNiceness(current: number): number {
  return Math.min(LOWEST, current + HASHING_NICENESS);
}

/**
 * Lowers the pool's threads by HASHING_NICENESS (setpriority(2) on a thread's id changes that thread
 * alone on Linux). Returns how many were found and how many lowered, and the niceness they now have;
 * a thread that cannot be lowered keeps its priority (the gate's bound still holds).
 */
export async function lowerHashingPriority(size = threadPoolSize()): Promise<{ found: number; lowered: number; niceness: number }> {
  const threads = await findPoolThreads(size);
  const niceness = hashingNiceness(getPriority());
  let lowered = 0;
  for (const thread of threads) {
    try {
      setPriority(thread, Math.max(niceness, getPriority(thread)));
      lowered += 1;
    } catch {
      // Not allowed here (a sandbox without setpriority): the thread keeps its priority.
    }
  }
  return { found: threads.length, lowered, niceness };
}
