/**
 * What `npm run bench` measured, as kept in `bench/results/<start time>.json`: a record per level and
 * per target, the run's options, and the whole results file, from which bench/lib/report.ts renders the
 * tables (run.ts right after the run, or anyone later from the file).
 */
import type { RunResult } from "./driver.ts";
import type { Argon2Result, FastifyResult, MachineDescription } from "./measure.ts";

export interface LevelRecord {
  label: string;
  concurrency: number;
  ratePerSecond?: number;
  result: RunResult;
  serverCpuMsPerFlow: number;
  /** The server's main thread (event loop) alone, ms per flow: the sign-in's own work, the hash aside. */
  eventLoopCpuMsPerFlow: number | null;
  beyondHashMs: number;
  rssAtCloseBytes: number;
  rssPeakBytes: number;
  /** CPU cores busy machine-wide during the window, and the share not used by the server or driver. */
  machineBusyCores: number | null;
  otherCores: number | null;
  /**
   * The server's own famos_code_to_smtp_seconds over the window (from the code's creation, after the
   * password check, to the SMTP server's acceptance), as bucket bounds in ms; null for a peer.
   */
  serverCodeToSmtp: { count: number; p50: number | null; p95: number | null } | null;
}

export interface TargetRecord {
  key: string;
  name: string;
  notes: string[];
  error?: string;
  levels: LevelRecord[];
  halfLoad?: LevelRecord;
  /**
   * Memory after the sessions: read as the last one ends (rssBytes, wherever V8's collector is), and
   * `settled`, read again after the server has had no request for `idleMs` (V8's memory reducer
   * collects when the allocation rate drops, about 8 s after the load: what the process keeps).
   */
  sessions?: { flowsTotal: number; rssBytes: number; heapUsedBytes?: number; elapsedMs: number; settled?: { rssBytes: number; heapUsedBytes?: number; idleMs: number } };
  best?: { flowRate: number; passwordRate: number; confirmRate: number; concurrency: number };
}

export interface BenchOptions {
  levels: number[];
  durationMs: number;
  warmupMs: number;
  warmFlows: number;
  users: number;
  sessions: number;
  sessionsMaxMs: number;
  rawSeconds: number;
  outDir: string;
}

/** The results file (`bench/results/<start time>.json`): everything the report is rendered from. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  machine: MachineDescription;
  loadAtStart: number[];
  options: BenchOptions;
  raw: { argon2: Argon2Result | null; fastify: FastifyResult | null };
  targets: TargetRecord[];
  /** The product once more on PostgreSQL at its best level; null with the reason, or with --no-postgres. */
  postgres: { level: LevelRecord | null; error: string | null };
  /** Cores used by other processes during a window above which the level was measured again. */
  noisyCores: number;
}

/** Cores used by other processes during a window above which the level is measured again. */
export const NOISY_CORES = 0.4;

/**
 * A results file read back. Files written before the PostgreSQL level and the noisy-cores threshold
 * were kept in it read as a run without PostgreSQL, with the threshold of their time (0.4).
 */
export function parseResults(text: string): BenchResults {
  const parsed = JSON.parse(text) as Omit<BenchResults, "postgres" | "noisyCores"> & Partial<Pick<BenchResults, "postgres" | "noisyCores">>;
  return { ...parsed, postgres: parsed.postgres ?? { level: null, error: null }, noisyCores: parsed.noisyCores ?? NOISY_CORES };
}

/**
 * The best load level: the fewest virtual users whose flows/s come within 5% of the highest level's.
 * Past that knee more users add no flows, only a queue in front of the hash (Little's law: latency =
 * users ÷ rate), so the latencies of the best level are those of the most the system can do.
 */
export const KNEE = 0.95;
export function bestLevel<L extends { concurrency: number; result: { flowRate: number } }>(levels: L[]): L {
  const top = Math.max(...levels.map((l) => l.result.flowRate));
  return [...levels].sort((p, q) => p.concurrency - q.concurrency).find((l) => l.result.flowRate >= KNEE * top) ?? levels[0]!;
}
