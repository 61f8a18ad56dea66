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
 *  3. Print the tables and ratios (bench/lib/report.ts renders them from the results); write the results
 *     (bench/lib/records.ts) to bench/results/<date>.json and the report to .md.
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
import { Driver, type DriverMark, type RunOptions } from "./lib/driver.ts";
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
import { bestLevel, NOISY_CORES, type BenchOptions, type BenchResults, type LevelRecord, type TargetRecord } from "./lib/records.ts";
import { renderReport } from "./lib/report.ts";
import { bound } from "./lib/report-table.ts";
import { fmt } from "./lib/stats.ts";
import { readMetrics, windowQuantiles } from "./lib/server-histogram.ts";
import type { PreparedTarget, Target } from "./lib/target.ts";
import { peerTarget } from "./peer/better-auth/target.ts";
import { famosPgTarget, famosTarget, productAvailable } from "./scenarios/famos-target.ts";
import { floorTarget } from "./scenarios/floor-target.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));

/** How long the server idles after the sessions before its memory is read again (V8's memory reducer starts about 8 s after the load). */
const SETTLE_MS = 12_000;

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
const opts: BenchOptions = {
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
if (!argv["peer-only"] && !argv["floor-only"]) {
  if (productAvailable()) targets.push(famosTarget);
  else console.log("product: src/cli/main.ts not there yet; running the peer only");
}
// The floor (issue 17): the same flow, pages and mail with only HTTP, one argon2id verify and one mail
// behind them, measured like the product: which targets no server reaches on this machine.
if (!argv["peer-only"] && !argv["no-floor"]) targets.push(floorTarget);
if (!argv["product-only"] && !argv["floor-only"]) targets.push(peerTarget);

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
      const elapsedMs = Date.now() - t0;
      console.log(`  after ${total} sessions: RSS ${fmt(s.rssBytes / 2 ** 20)} MB as the last ended; reading again after ${SETTLE_MS / 1000} s without requests …`);
      // Read as the last session ends, RSS depends on where V8's collector is (heap in use 38 to 76 MB
      // in four runs of the same build); after a quiet spell its memory reducer has collected, and
      // what is left is what the sessions keep (bench/HISTORY.md, 2026-12-04).
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const q = await prepared.server.stats();
      const heap = (x: typeof s) => (x.heapUsedBytes !== undefined ? { heapUsedBytes: x.heapUsedBytes } : {});
      record.sessions = { flowsTotal: total, rssBytes: s.rssBytes, ...heap(s), elapsedMs, settled: { rssBytes: q.rssBytes, ...heap(q), idleMs: SETTLE_MS } };
      console.log(`  after ${total} sessions and ${SETTLE_MS / 1000} s without requests: RSS ${fmt(q.rssBytes / 2 ** 20)} MB`);
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

const results: BenchResults = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  machine,
  loadAtStart,
  options: opts,
  raw: { argon2, fastify },
  targets: records,
  postgres: { level: pgLevel, error: pgError },
  noisyCores: NOISY_CORES,
};
const report = renderReport(results);
if (report.warning) console.log(`\nWARNING: ${report.warning}`);
console.log(`\n${"=".repeat(100)}\n${report.header.join("\n")}`);
for (const s of report.sections) console.log(`\n## ${s.title}\n${s.text}`);

await mkdir(opts.outDir, { recursive: true });
const stamp = startedAt.toISOString().replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
await writeFile(join(opts.outDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(join(opts.outDir, `${stamp}.md`), report.md);
console.log(`\nwritten: ${join(opts.outDir, `${stamp}.json`)} and .md`);
process.exit(records.some((r) => r.error) ? 1 : 0);
