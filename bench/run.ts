/**
 * `npm run bench` — the sign-in measured against its limits and a peer.
 *
 *  1. Raw limits: argon2id verifies/s (product parameters, libuv pool's worth at once) and a bare
 *     Fastify route's requests/s.
 *  2. For each target (the product, then the floor — the cheapest server for the same flow, see
 *     bench/lib/floor-server.ts — then better-auth as the peer): start it on SQLite in production mode
 *     with the driver's SMTP sink as its mail server, then drive complete flows at each concurrency
 *     level; then at half the best flow rate (code → SMTP latency there); then, for the product, top the
 *     sessions up to --sessions and read its memory.
 *  3. Print the tables and ratios; write bench/results/<date>.json and .md with the machine description.
 *
 *   node --import tsx bench/run.ts [--peer-only | --product-only | --floor-only] [--no-floor] [--levels 4,16] [--duration 20]
 *        [--warmup 3] [--warm-flows 3000] [--users 200] [--sessions 10000] [--no-raw] [--quick] [--cpu-prof]
 *        [--node-flags="<flags for the product's server>"]
 *
 * --node-flags measures a runtime setting on the whole bench, e.g.
 * `--node-flags="--heap-growing-percent=20"` (with "=", as the value starts with a dash; bench/HISTORY.md,
 * the eleventh round): the product's server starts with them after the launcher's own, and the results
 * file says so beside the product's figures.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Driver, type DriverMark, type RunOptions, type RunResult } from "./lib/driver.ts";
import {
  describeMachine,
  flowCost,
  machineBusyMs,
  measureArgon2,
  productHashConcurrency,
  measureBareFastify,
  type Argon2Result,
  type FastifyResult,
  type MachineDescription,
} from "./lib/measure.ts";
import { cpuMs, type ServerStats } from "./lib/proc.ts";
import { fmt } from "./lib/stats.ts";
import { readMetrics, windowQuantiles } from "./lib/server-histogram.ts";
import type { PreparedTarget, Target } from "./lib/target.ts";
import { peerTarget } from "./peer/better-auth/target.ts";
import { famosPgTarget, famosTarget, productAvailable } from "./scenarios/famos-target.ts";
import { floorTarget } from "./scenarios/floor-target.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));

// --- options -----------------------------------------------------------------------------------------

const { values: argv } = parseArgs({
  options: {
    "peer-only": { type: "boolean", default: false },
    "product-only": { type: "boolean", default: false },
    /** The floor alone (with the raw limits), or every target but the floor. */
    "floor-only": { type: "boolean", default: false },
    "no-floor": { type: "boolean", default: false },
    "no-raw": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    levels: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    "warm-flows": { type: "string" },
    users: { type: "string" },
    sessions: { type: "string" },
    "sessions-max-seconds": { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "node-flags": { type: "string" },
    out: { type: "string" },
    "no-postgres": { type: "boolean", default: false },
    postgres: { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
  },
});

const quick = argv.quick;
/**
 * Complete flows each server runs before its first level, uncounted: a server runs for days, and V8
 * optimises a request's code only after thousands of calls. Without them the first level (c=4) pays
 * the JIT's warm-up, a cost a bigger code base pays longer (bench/HISTORY.md, the sixteenth round).
 */
const WARM_FLOWS = 3000;
/** Extra node flags for the product's server only (--node-flags), split on spaces. */
const productNodeFlags = (argv["node-flags"] ?? "").split(/\s+/).filter(Boolean);
const opts = {
  levels: (argv.levels ?? (quick ? "4" : "4,8,16")).split(",").map((s) => Number(s.trim())).filter((n) => n > 0),
  durationMs: Number(argv.duration ?? (quick ? 5 : 20)) * 1000,
  warmupMs: Number(argv.warmup ?? (quick ? 1 : 3)) * 1000,
  warmFlows: Number(argv["warm-flows"] ?? (quick ? 0 : WARM_FLOWS)),
  users: Number(argv.users ?? 200),
  sessions: Number(argv.sessions ?? (quick ? 0 : 10_000)),
  sessionsMaxMs: Number(argv["sessions-max-seconds"] ?? 180) * 1000,
  rawSeconds: quick ? 2 : 5,
  outDir: argv.out ?? join(BENCH_DIR, "results"),
};

// --- the product hook ----------------------------------------------------------------------------------
// The product is driven by bench/scenarios/famos.ts and started by bench/scenarios/famos-target.ts
// (migrate, user import, serve). It runs when src/cli/main.ts exists, unless --peer-only.
const targets: Target[] = [];
/** Cores used by other processes during a window above which the level is measured again. */
const NOISY_CORES = 0.4;
if (!argv["peer-only"] && !argv["floor-only"]) {
  if (productAvailable()) targets.push(famosTarget);
  else console.log("product: src/cli/main.ts not there yet; running the peer only");
}
// The floor (issue 17): the same flow, pages and mail with only HTTP, one argon2id verify and one mail
// behind them, measured like the product: which targets no server reaches on this machine.
if (!argv["peer-only"] && !argv["no-floor"]) targets.push(floorTarget);
if (!argv["product-only"] && !argv["floor-only"]) targets.push(peerTarget);

/**
 * The best load level: the fewest virtual users whose flows/s come within 5% of the highest level's.
 * Past that knee more users add no flows, only a queue in front of the hash (Little's law: latency =
 * users ÷ rate), so the latencies of the best level are those of the most the system can do.
 */
const KNEE = 0.95;
function bestLevel<L extends { concurrency: number; result: { flowRate: number } }>(levels: L[]): L {
  const top = Math.max(...levels.map((l) => l.result.flowRate));
  return [...levels].sort((p, q) => p.concurrency - q.concurrency).find((l) => l.result.flowRate >= KNEE * top) ?? levels[0]!;
}

// --- records -------------------------------------------------------------------------------------------

interface LevelRecord {
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

interface TargetRecord {
  key: string;
  name: string;
  notes: string[];
  error?: string;
  levels: LevelRecord[];
  halfLoad?: LevelRecord;
  sessions?: { flowsTotal: number; rssBytes: number; heapUsedBytes?: number; elapsedMs: number };
  best?: { flowRate: number; passwordRate: number; confirmRate: number; concurrency: number };
}

const machine: MachineDescription = await describeMachine();
const startedAt = new Date();
const loadAtStart = loadavg();
console.log(`FAMOS bench — ${startedAt.toISOString()}`);
console.log(`${machine.cpus} × ${machine.cpuModel}, ${fmt(machine.memoryBytes / 2 ** 30, 1)} GiB, Node ${machine.node}, ${machine.platform}, UV_THREADPOOL_SIZE ${machine.threadpool}`);
console.log(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}`);
if (loadAtStart[0]! > 0.5) console.log("  (the machine is not idle: other processes will take CPU from the figures below)");

// --- raw limits ------------------------------------------------------------------------------------------

let argon2: Argon2Result | null = null;
let fastify: FastifyResult | null = null;
if (!argv["no-raw"]) {
  console.log(`\nraw argon2id (m=19456 KiB, t=2, p=1), ${productHashConcurrency()} at once (the product's hash gate), ${opts.rawSeconds} s …`);
  argon2 = await measureArgon2(opts.rawSeconds, productHashConcurrency());
  console.log(`  ${fmt(argon2.perSecond)} verifies/s, ${fmt(argon2.cpuMsPerVerify)} ms CPU each`);
  console.log(`bare Fastify 5 route, autocannon 50 connections, ${opts.rawSeconds} s …`);
  fastify = await measureBareFastify(opts.rawSeconds, 50);
  console.log(`  ${fmt(fastify.perSecond)} req/s, ${fmt(fastify.serverCpuUsPerRequest)} µs server CPU each`);
}
const argonCpuMs = argon2?.cpuMsPerVerify ?? 10;

// --- targets ----------------------------------------------------------------------------------------------

const driver = await Driver.start();
const records: TargetRecord[] = [];

async function measuredRun(target: Target, prepared: PreparedTarget, options: RunOptions): Promise<LevelRecord> {
  const server = prepared.server;
  let before: ServerStats | null = null;
  let after: ServerStats | null = null;
  let busy0: number | null = null;
  let busy1: number | null = null;
  let stopSampling: (() => number) | null = null;
  let metrics0: string | null = null;
  let metrics1: string | null = null;
  const onMark = async (mark: DriverMark): Promise<void> => {
    if (mark === "window-open") {
      [before, busy0, metrics0] = await Promise.all([server.stats(), machineBusyMs(), readMetrics(prepared.origin)]);
      stopSampling = server.sampleRss(500);
    } else {
      [after, busy1, metrics1] = await Promise.all([server.stats(), machineBusyMs(), readMetrics(prepared.origin)]);
    }
  };
  const result = await driver.run(options, onMark);
  const peak = (stopSampling as (() => number) | null)?.() ?? 0;
  const b = before as ServerStats | null;
  const a = after as ServerStats | null;
  if (!b || !a) throw new Error("no server stats");
  const cost = flowCost(b, a, result.flowsOk, argonCpuMs, target.verifiesPerFlow);
  const seconds = result.elapsedMs / 1000;
  const machineBusyCores = busy0 !== null && busy1 !== null ? (busy1 - busy0) / 1000 / seconds : null;
  const ours = (cpuMs(b, a) + result.driverCpuMs) / 1000 / seconds;
  return {
    label: options.label ?? `c=${options.concurrency}`,
    concurrency: options.concurrency,
    ...(options.ratePerSecond ? { ratePerSecond: options.ratePerSecond } : {}),
    result,
    serverCpuMsPerFlow: cost.cpuMsPerFlow,
    eventLoopCpuMsPerFlow:
      typeof a.mainThreadCpuMs === "number" && typeof b.mainThreadCpuMs === "number" ? (a.mainThreadCpuMs - b.mainThreadCpuMs) / Math.max(1, result.flowsOk) : null,
    beyondHashMs: cost.beyondHashMs,
    rssAtCloseBytes: a.rssBytes,
    rssPeakBytes: Math.max(peak, a.rssBytes),
    machineBusyCores,
    otherCores: machineBusyCores === null ? null : Math.max(0, machineBusyCores - ours),
    serverCodeToSmtp: windowQuantiles(metrics0, metrics1, "famos_code_to_smtp_seconds"),
  };
}

/** "≤ 25" from a bucket bound, or "–". */
const bound = (ms: number | null | undefined): string => (ms === null || ms === undefined ? "–" : `≤ ${fmt(ms)}`);

function printLevel(r: LevelRecord): void {
  const x = r.result;
  const code = x.metrics["code→smtp"];
  console.log(
    `  ${r.label.padEnd(14)} ${fmt(x.flowRate).padStart(6)} flows/s  password ${fmt(x.roleRates.password)}/s  codes ${fmt(x.roleRates.confirm)}/s  ` +
      `flow p50/p95/p99 ${fmt(x.flowLatency.p50)}/${fmt(x.flowLatency.p95)}/${fmt(x.flowLatency.p99)} ms  ` +
      `code→SMTP p50/p95 ${fmt(code?.p50)}/${fmt(code?.p95)} ms` +
      (r.serverCodeToSmtp ? ` (server, from the code: ${bound(r.serverCodeToSmtp.p50)}/${bound(r.serverCodeToSmtp.p95)})` : "") +
      `  CPU ${fmt(r.serverCpuMsPerFlow)} ms/flow (${fmt(r.beyondHashMs)} beyond hash, event loop ${fmt(r.eventLoopCpuMsPerFlow)})  ` +
      `RSS ${fmt(r.rssPeakBytes / 2 ** 20)} MB  errors ${x.errorCount}` +
      (r.otherCores !== null && r.otherCores > 0.2 ? `  [other processes: ${fmt(r.otherCores)} cores]` : ""),
  );
  for (const [k, n] of Object.entries(x.errors).sort((p, q) => q[1] - p[1]).slice(0, 3)) console.log(`      ${n} × ${k}`);
}

for (const target of targets) {
  const record: TargetRecord = { key: target.key, name: target.name, notes: [], levels: [] };
  records.push(record);
  console.log(`\n${target.name}: preparing ${opts.users} users …`);
  const workDir = await mkdtemp(join(tmpdir(), `famos-bench-${target.key}-`));
  let prepared: PreparedTarget | null = null;
  try {
    const profDir = join(opts.outDir, "profiles", target.key);
    if (argv["cpu-prof"]) await mkdir(profDir, { recursive: true });
    prepared = await target.prepare({
      sinkPort: driver.sinkPort,
      users: opts.users,
      minUsers: Math.max(...opts.levels) * 2,
      workDir,
      nodeFlags: [...(argv["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", profDir] : []), ...(target.key === "product" ? productNodeFlags : [])],
    });
    if (target.key === "product" && productNodeFlags.length > 0) prepared.notes.push(`node flags (--node-flags): ${productNodeFlags.join(" ")}`);
    record.notes.push(...prepared.notes);
    for (const note of prepared.notes) console.log(`  ${note}`);
    const base = { scenario: target.scenario, origin: prepared.origin, users: prepared.users, warmupMs: opts.warmupMs };
    const warmed = await warmUp(base, opts.levels, opts.warmFlows);
    for (const c of opts.levels) {
      let r = await measuredRun(target, prepared, { ...base, concurrency: c, durationMs: opts.durationMs, label: `c=${c}` });
      printLevel(r);
      // On a shared machine another process can take a core for a while: measure such a level once more
      // and keep the quieter of the two.
      if (r.otherCores !== null && r.otherCores > NOISY_CORES) {
        console.log(`    other processes took ${fmt(r.otherCores)} cores: measuring c=${c} again`);
        const again = await measuredRun(target, prepared, { ...base, concurrency: c, durationMs: opts.durationMs, label: `c=${c}` });
        printLevel(again);
        if ((again.otherCores ?? 0) < (r.otherCores ?? 0)) r = again;
      }
      record.levels.push(r);
    }
    const best = bestLevel(record.levels);
    record.best = {
      flowRate: best.result.flowRate,
      passwordRate: Math.max(...record.levels.map((l) => l.result.roleRates.password ?? 0)),
      confirmRate: Math.max(...record.levels.map((l) => l.result.roleRates.confirm ?? 0)),
      concurrency: best.concurrency,
    };
    // Half the maximum load: paced flow starts, with spare virtual users so pacing, not them, sets the rate.
    const half = best.result.flowRate / 2;
    if (half > 0) {
      const c = Math.max(...opts.levels);
      record.halfLoad = await measuredRun(target, prepared, {
        ...base,
        concurrency: c,
        ratePerSecond: half,
        durationMs: Math.max(5_000, opts.durationMs / 2),
        label: `½ load ${fmt(half)}/s`,
      });
      printLevel(record.halfLoad);
    }
    // Memory after N sessions (product by default: its target; the peer's RSS is read under load).
    const done = warmed + [...record.levels, ...(record.halfLoad ? [record.halfLoad] : [])].reduce((n, l) => n + l.result.flowsTotal, 0);
    if (target.key === "product" && opts.sessions > 0) {
      const more = opts.sessions - done;
      const t0 = Date.now();
      let total = done;
      if (more > 0) {
        console.log(`  topping up to ${opts.sessions} sessions (${more} more flows, at most ${opts.sessionsMaxMs / 1000} s) …`);
        const r = await driver.run({ ...base, concurrency: best.concurrency, flows: more, durationMs: opts.sessionsMaxMs, label: "sessions" });
        total += r.flowsTotal;
      }
      const s = await prepared.server.stats();
      record.sessions = { flowsTotal: total, rssBytes: s.rssBytes, ...(s.heapUsedBytes !== undefined ? { heapUsedBytes: s.heapUsedBytes } : {}), elapsedMs: Date.now() - t0 };
      console.log(`  after ${total} sessions: RSS ${fmt(s.rssBytes / 2 ** 20)} MB`);
    } else {
      const s = await prepared.server.stats();
      record.sessions = { flowsTotal: done, rssBytes: s.rssBytes, ...(s.heapUsedBytes !== undefined ? { heapUsedBytes: s.heapUsedBytes } : {}), elapsedMs: 0 };
      console.log(`  after ${done} sessions: RSS ${fmt(s.rssBytes / 2 ** 20)} MB`);
    }
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
    console.log(`  FAILED: ${record.error.split("\n").slice(0, 12).join("\n  ")}`);
    if (prepared) console.log(`  server log (tail):\n${prepared.server.log.toString().slice(-2000)}`);
  } finally {
    await prepared?.server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
/** Runs `flows` uncounted flows at the highest level (as fast as they go); returns how many ran. */
async function warmUp(base: Pick<RunOptions, "scenario" | "origin" | "users">, levels: number[], flows: number): Promise<number> {
  if (flows <= 0) return 0;
  const t0 = Date.now();
  const r = await driver.run({ ...base, concurrency: Math.max(...levels), flows, durationMs: 180_000, label: "warm-up" });
  console.log(`  warmed up with ${r.flowsTotal} flows in ${fmt((Date.now() - t0) / 1000)} s (uncounted)`);
  return r.flowsTotal;
}

// PostgreSQL: the product at its best level once more, on a schema of the local server (issue 17:
// CPU per flow within 1.5 × SQLite's). FAMOS's own process is measured; the database server's CPU is
// its own process's, outside the figure, as SQLite's would be inside it.
let pgLevel: LevelRecord | null = null;
let pgError: string | null = null;
const sqliteRecord = records.find((r) => r.key === "product" && r.best);
if (sqliteRecord?.best && !argv["no-postgres"]) {
  const target = famosPgTarget(argv.postgres!);
  console.log(`\n${target.name}: c=${sqliteRecord.best.concurrency} …`);
  const workDir = await mkdtemp(join(tmpdir(), "famos-bench-pg-"));
  let prepared: PreparedTarget | null = null;
  try {
    prepared = await target.prepare({ sinkPort: driver.sinkPort, users: opts.users, minUsers: Math.max(...opts.levels) * 2, workDir });
    const c = sqliteRecord.best.concurrency;
    await warmUp({ scenario: target.scenario, origin: prepared.origin, users: prepared.users }, [c], opts.warmFlows);
    pgLevel = await measuredRun(target, prepared, { scenario: target.scenario, origin: prepared.origin, users: prepared.users, warmupMs: opts.warmupMs, concurrency: c, durationMs: opts.durationMs, label: `c=${c} PostgreSQL` });
    printLevel(pgLevel);
  } catch (error) {
    pgError = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    console.log(`  PostgreSQL run failed: ${pgError}`);
  } finally {
    await prepared?.server.stop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}
await driver.close();

// --- report ------------------------------------------------------------------------------------------------

type Row = string[];
function renderTable(headers: string[], rows: Row[]): { text: string; md: string } {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: Row): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const text = [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
  const md = [`| ${headers.join(" | ")} |`, `| ${headers.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  return { text, md };
}

const MB = 2 ** 20;
const sections: { title: string; text: string; md: string }[] = [];

if (argon2 && fastify) {
  sections.push({
    title: "Raw limits",
    ...renderTable(
      ["limit", "figure", "detail"],
      [
        ["argon2id verify (19 MiB, t=2, p=1)", `${fmt(argon2.perSecond)}/s`, `${argon2.concurrency} at once (pool ${argon2.threadpool}), ${fmt(argon2.cpuMsPerVerify)} ms CPU each`],
        ["bare Fastify 5 route", `${fmt(fastify.perSecond)} req/s`, `${fastify.connections} connections, p99 ${fmt(fastify.latencyP99Ms)} ms, ${fmt(fastify.serverCpuUsPerRequest)} µs server CPU each`],
      ],
    ),
  });
}

for (const rec of records) {
  if (rec.error && rec.levels.length === 0) {
    sections.push({ title: rec.name, text: `FAILED: ${rec.error.split("\n")[0]}`, md: `FAILED: \`${rec.error.split("\n")[0]}\`` });
    continue;
  }
  const levels = [...rec.levels, ...(rec.halfLoad ? [rec.halfLoad] : [])];
  const rows = levels.map((l) => {
    const x = l.result;
    const code = x.metrics["code→smtp"];
    return [
      l.label,
      fmt(x.flowRate),
      fmt(x.roleRates.password),
      fmt(x.roleRates.confirm),
      `${fmt(x.flowLatency.p50)} / ${fmt(x.flowLatency.p95)} / ${fmt(x.flowLatency.p99)}`,
      `${fmt(code?.p50)} / ${fmt(code?.p95)}` + (l.serverCodeToSmtp ? ` (from the code ${bound(l.serverCodeToSmtp.p50)} / ${bound(l.serverCodeToSmtp.p95)})` : ""),
      fmt(l.serverCpuMsPerFlow),
      fmt(l.eventLoopCpuMsPerFlow),
      fmt(l.beyondHashMs),
      fmt(x.driverCpuMs / Math.max(1, x.flowsOk)),
      fmt(l.rssPeakBytes / MB),
      String(x.errorCount),
      l.otherCores === null ? "–" : fmt(l.otherCores),
    ];
  });
  const t = renderTable(
    ["load", "flows/s", "password/s", "codes/s", "flow p50/p95/p99 ms", "code→SMTP p50/p95 ms", "CPU ms/flow", "event loop ms/flow", "beyond hash", "driver ms/flow", "RSS peak MB", "errors", "other CPU"],
    rows,
  );
  const stepRows = (levels[0]?.result.steps ?? []).map((s, i) => [
    s.name,
    ...levels.map((l) => {
      const st = l.result.steps[i];
      return st ? `${fmt(st.latency.p50)} / ${fmt(st.latency.p95)} / ${fmt(st.latency.p99)}` : "–";
    }),
  ]);
  const st = renderTable(["step p50 / p95 / p99 ms", ...levels.map((l) => l.label)], stepRows);
  const extra = [
    ...rec.notes,
    rec.sessions ? `RSS after ${rec.sessions.flowsTotal} sessions: ${fmt(rec.sessions.rssBytes / MB)} MB` : "",
    ...(rec.error ? [`error: ${rec.error.split("\n")[0]}`] : []),
  ].filter(Boolean);
  sections.push({
    title: rec.name,
    text: `${t.text}\n\n${st.text}\n${extra.map((e) => `  ${e}`).join("\n")}`,
    md: `${t.md}\n\n${st.md}\n\n${extra.map((e) => `- ${e}`).join("\n")}`,
  });
}

// Ratios against the limits and the targets of issue 7.
const product = records.find((r) => r.key === "product" && r.best);
const peer = records.find((r) => r.key === "peer" && r.best);
const ratioRows: Row[] = [];
const check = (ok: boolean | null): string => (ok === null ? "" : ok ? "✓" : "✗");
for (const rec of [product, peer]) {
  if (!rec?.best) continue;
  const isProduct = rec.key === "product";
  const maxBeyond = Math.max(...rec.levels.map((l) => l.beyondHashMs));
  const halfP95 = rec.halfLoad?.result.metrics["code→smtp"]?.p95;
  const flowsVsArgon = argon2 ? rec.best.flowRate / argon2.perSecond : Number.NaN;
  const pwVsArgon = argon2 ? rec.best.passwordRate / argon2.perSecond : Number.NaN;
  const rss = rec.sessions?.rssBytes;
  ratioRows.push(
    [rec.name, "complete flows/s ÷ raw argon2id verifies/s", fmt(flowsVsArgon), "≥ 0.6", isProduct ? check(flowsVsArgon >= 0.6) : ""],
    [rec.name, "password steps/s ÷ raw argon2id verifies/s", fmt(pwVsArgon), "≥ 0.9", isProduct ? check(pwVsArgon >= 0.9) : ""],
    [rec.name, "server CPU per flow beyond the hash (worst level), ms", fmt(maxBeyond), "≤ 3", isProduct ? check(maxBeyond <= 3) : ""],
    [rec.name, "code request → SMTP acceptance p95 at ½ max load, ms", fmt(halfP95), "≤ 250", isProduct && halfP95 !== undefined ? check(halfP95 <= 250) : ""],
    [
      rec.name,
      `RSS after ${rec.sessions?.flowsTotal ?? "?"} sessions, MB`,
      fmt(rss === undefined ? undefined : rss / MB),
      "≤ 150 (after 10,000)",
      isProduct && rss !== undefined ? check(rss / MB <= 150 && (rec.sessions?.flowsTotal ?? 0) >= 10_000) : "",
    ],
  );
}
if (product?.best && peer?.best) {
  ratioRows.push(["product ÷ peer", "complete flows/s", fmt(product.best.flowRate / peer.best.flowRate), "", ""]);
}
if (fastify) {
  for (const rec of [product, peer]) {
    if (!rec?.best) continue;
    const httpRate = Math.max(...rec.levels.map((l) => l.result.httpRate));
    ratioRows.push([rec.name, "HTTP requests/s in flows ÷ bare Fastify req/s", fmt(httpRate / fastify.perSecond, 3), "", ""]);
  }
}
const noisy = records.flatMap((r) => [...r.levels, ...(r.halfLoad ? [r.halfLoad] : [])].filter((l) => (l.otherCores ?? 0) > NOISY_CORES).map((l) => `${r.name} ${l.label}`));
if (noisy.length) {
  const warning = `other processes took more than ${NOISY_CORES} cores during: ${noisy.join(", ")} — those figures are low`;
  console.log(`\nWARNING: ${warning}`);
  sections.push({ title: "Warning", text: warning, md: warning });
}
if (ratioRows.length) sections.push({ title: "Ratios and targets (issue 7)", ...renderTable(["system", "figure", "value", "target", ""], ratioRows) });

// Issue 17's targets: each as a ratio from this one run, with PASS or FAIL.
const targetRows: Row[] = [];
const verdict = (ok: boolean | null): string => (ok === null ? "n/a" : ok ? "PASS" : "FAIL");
if (product?.best) {
  const bestRec = product.levels.find((l) => l.concurrency === product.best!.concurrency) ?? product.levels[0]!;
  const worstCpu = Math.max(...product.levels.map((l) => l.serverCpuMsPerFlow));
  const cpuRatio = argon2 ? bestRec.serverCpuMsPerFlow / argon2.cpuMsPerVerify : null;
  const flowsRatio = argon2 ? product.best.flowRate / argon2.perSecond : null;
  const codeP95 = bestRec.result.metrics["code→smtp"]?.p95 ?? null;
  const passwordP95 = bestRec.result.steps.find((st) => st.role === "password")?.latency.p95 ?? null;
  const rss = product.sessions?.rssBytes;
  const enough = (product.sessions?.flowsTotal ?? 0) >= 10_000;
  targetRows.push(
    [
      `server CPU per complete flow ÷ one argon2id verify's CPU (best level ${bestRec.label}; worst level ${fmt(argon2 ? worstCpu / argon2.cpuMsPerVerify : null)})`,
      cpuRatio === null ? "–" : `${fmt(cpuRatio)} (${fmt(bestRec.serverCpuMsPerFlow)} ÷ ${fmt(argon2?.cpuMsPerVerify)} ms; event loop ${fmt(bestRec.eventLoopCpuMsPerFlow)} ms)`,
      "≤ 1.2",
      verdict(cpuRatio === null ? null : cpuRatio <= 1.2),
    ],
    [
      `complete flows/s at the best level ÷ raw argon2id verifies/s (${argon2?.concurrency ?? "?"} at once, the product's hash gate)`,
      flowsRatio === null ? "–" : `${fmt(flowsRatio)} (${fmt(product.best.flowRate)} ÷ ${fmt(argon2?.perSecond)})`,
      "≥ 0.8",
      verdict(flowsRatio === null ? null : flowsRatio >= 0.8),
    ],
    [
      `code request → SMTP acceptance p95 at the best level, ms (POST /login alone: p95 ${fmt(passwordP95)}; the mail from the code's creation, the server's own histogram: p95 ${bound(bestRec.serverCodeToSmtp?.p95)})`,
      fmt(codeP95),
      "≤ 100",
      verdict(codeP95 === null ? null : codeP95 <= 100),
    ],
    [`RSS after ${product.sessions?.flowsTotal ?? "?"} sessions, MB`, fmt(rss === undefined ? undefined : rss / MB), "≤ 150 after 10,000", verdict(rss === undefined || !enough ? null : rss / MB <= 150)],
  );
  if (pgLevel) {
    const r = pgLevel.serverCpuMsPerFlow / bestRec.serverCpuMsPerFlow;
    targetRows.push([`PostgreSQL CPU per flow ÷ SQLite's (${pgLevel.label}; FAMOS's process)`, `${fmt(r)} (${fmt(pgLevel.serverCpuMsPerFlow)} ÷ ${fmt(bestRec.serverCpuMsPerFlow)} ms)`, "≤ 1.5", verdict(r <= 1.5)]);
  } else {
    targetRows.push(["PostgreSQL CPU per flow ÷ SQLite's", pgError ? `not measured: ${pgError}` : "not measured (--no-postgres)", "≤ 1.5", "n/a"]);
  }
  if (peer?.best) targetRows.push(["better-auth (peer) flows/s at its best level, for comparison", `${fmt(peer.best.flowRate)} (product ÷ peer ${fmt(product.best.flowRate / peer.best.flowRate)})`, "", ""]);
}
// The floor's own figures against the same limits: a limit the floor misses is out of reach for any
// server on this machine (the driver, the SMTP sink and the hashes share its cores); then the product
// against the floor, both at their best levels.
const floor = records.find((r) => r.key === "floor" && r.best);
if (floor?.best) {
  const fBest = floor.levels.find((l) => l.concurrency === floor.best!.concurrency) ?? floor.levels[0]!;
  const reach = (ok: boolean | null): string => (ok === null ? "n/a" : ok ? "floor meets it" : "out of reach here");
  const fCpu = argon2 ? fBest.serverCpuMsPerFlow / argon2.cpuMsPerVerify : null;
  const fFlows = argon2 ? floor.best.flowRate / argon2.perSecond : null;
  const fCode = fBest.result.metrics["code→smtp"]?.p95 ?? null;
  targetRows.push(
    [
      `floor: server CPU per complete flow ÷ one argon2id verify's CPU (best level ${fBest.label})`,
      fCpu === null ? "–" : `${fmt(fCpu)} (${fmt(fBest.serverCpuMsPerFlow)} ÷ ${fmt(argon2?.cpuMsPerVerify)} ms; event loop ${fmt(fBest.eventLoopCpuMsPerFlow)} ms)`,
      "≤ 1.2",
      reach(fCpu === null ? null : fCpu <= 1.2),
    ],
    [
      `floor: complete flows/s at its best level ÷ raw argon2id verifies/s`,
      fFlows === null ? "–" : `${fmt(fFlows)} (${fmt(floor.best.flowRate)} ÷ ${fmt(argon2?.perSecond)})`,
      "≥ 0.8",
      reach(fFlows === null ? null : fFlows >= 0.8),
    ],
    [
      // Little's law: in a closed loop of N users a flow takes N ÷ flows/s, whatever the server does.
      `floor: code request → SMTP acceptance p95 at its best level, ms (${fBest.label}: a flow takes ${fmt(fBest.concurrency)} ÷ ${fmt(fBest.result.flowRate)}/s = ${fmt((fBest.concurrency / Math.max(1e-9, fBest.result.flowRate)) * 1000)} ms by Little's law)`,
      fmt(fCode),
      "≤ 100",
      reach(fCode === null ? null : fCode <= 100),
    ],
  );
  if (product?.best) {
    const pBest = product.levels.find((l) => l.concurrency === product.best!.concurrency) ?? product.levels[0]!;
    targetRows.push(
      [
        "product ÷ floor: server CPU per flow beyond the hash (best levels)",
        `${fmt(pBest.beyondHashMs / fBest.beyondHashMs)} (${fmt(pBest.beyondHashMs)} ÷ ${fmt(fBest.beyondHashMs)} ms; event loop ${fmt(pBest.eventLoopCpuMsPerFlow)} ÷ ${fmt(fBest.eventLoopCpuMsPerFlow)} ms)`,
        "",
        "",
      ],
      ["product ÷ floor: server CPU per complete flow (best levels)", `${fmt(pBest.serverCpuMsPerFlow / fBest.serverCpuMsPerFlow)} (${fmt(pBest.serverCpuMsPerFlow)} ÷ ${fmt(fBest.serverCpuMsPerFlow)} ms)`, "", ""],
      ["product ÷ floor: complete flows/s (best levels)", `${fmt(product.best.flowRate / floor.best.flowRate)} (${fmt(product.best.flowRate)} ÷ ${fmt(floor.best.flowRate)})`, "", ""],
      [
        "product ÷ floor: code request → SMTP acceptance p95 (best levels)",
        `${fmt((pBest.result.metrics["code→smtp"]?.p95 ?? Number.NaN) / (fCode ?? Number.NaN))} (${fmt(pBest.result.metrics["code→smtp"]?.p95)} ÷ ${fmt(fCode)} ms)`,
        "",
        "",
      ],
    );
  }
}
if (pgLevel) {
  const r = pgLevel.result;
  const code = r.metrics["code→smtp"];
  sections.push({
    title: "FAMOS 2FA (product, PostgreSQL)",
    ...renderTable(
      ["load", "flows/s", "flow p50/p95 ms", "code→SMTP p50/p95 ms", "CPU ms/flow", "event loop ms/flow", "errors", "other CPU"],
      [[pgLevel.label, fmt(r.flowRate), `${fmt(r.flowLatency.p50)} / ${fmt(r.flowLatency.p95)}`, `${fmt(code?.p50)} / ${fmt(code?.p95)}`, fmt(pgLevel.serverCpuMsPerFlow), fmt(pgLevel.eventLoopCpuMsPerFlow), String(r.errorCount), pgLevel.otherCores === null ? "–" : fmt(pgLevel.otherCores)]],
    ),
  });
}
if (targetRows.length) sections.push({ title: "Targets (issue 17)", ...renderTable(["target", "measured", "limit", "verdict"], targetRows) });

const finishedAt = new Date();
const header = [
  `FAMOS bench ${startedAt.toISOString()} (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s)`,
  `machine: ${machine.cpus} × ${machine.cpuModel}, ${fmt(machine.memoryBytes / 2 ** 30, 1)} GiB RAM, ${machine.platform} ${machine.release}, Node ${machine.node}, UV_THREADPOOL_SIZE ${machine.threadpool}`,
  `load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}; "other CPU" = cores busy machine-wide beyond the server and the driver during the window`,
  `best level: the fewest virtual users within ${Math.round((1 - KNEE) * 100)}% of the highest flows/s; "event loop" = the server's main thread alone (the hashes run on other threads)`,
  `flows: complete sign-ins over HTTP (keep-alive, a cookie jar per virtual user) with the code read from a real SMTP server; levels ${opts.levels.join(", ")} virtual users × ${opts.durationMs / 1000} s after ${opts.warmupMs / 1000} s warm-up${opts.warmFlows > 0 ? `, each server warmed first by ${opts.warmFlows} uncounted flows at the highest level` : ""}; ${opts.users} users`,
];

console.log(`\n${"=".repeat(100)}\n${header.join("\n")}`);
for (const s of sections) console.log(`\n## ${s.title}\n${s.text}`);

await mkdir(opts.outDir, { recursive: true });
const stamp = startedAt.toISOString().replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
const md = [`# ${header[0]}`, "", ...header.slice(1).map((h) => `- ${h}`), ...sections.flatMap((s) => ["", `## ${s.title}`, "", s.md])].join("\n") + "\n";
const json = {
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  machine,
  loadAtStart,
  options: opts,
  raw: { argon2, fastify },
  targets: records,
};
await writeFile(join(opts.outDir, `${stamp}.json`), `${JSON.stringify(json, null, 2)}\n`);
await writeFile(join(opts.outDir, `${stamp}.md`), md);
console.log(`\nwritten: ${join(opts.outDir, `${stamp}.json`)} and .md`);
process.exit(records.some((r) => r.error) ? 1 : 0);
