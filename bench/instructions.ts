/**
 * Instructions per complete sign-in, counted by valgrind (issue 17, the fortieth round): the product
 * (`famos serve` on SQLite, as bench/scenarios/famos-target.ts starts it) and the floor
 * (bench/lib/floor-server.ts), each in one process under `valgrind --tool=callgrind
 * --separate-threads=yes`, driven over HTTP by the bench's own driver and SMTP sink (not under valgrind).
 * After `--warm-flows` uncounted flows, with the server idle, `callgrind_control -z` zeroes the counters
 * of every thread, `--flows` flows run, and `callgrind_control -d` writes every thread's counts; then,
 * with no requests, the same for `--idle-seconds` (what timers cost per second). Instruction counts do not depend on what else the
 * machine runs, so two runs agree where timing runs on this shared machine differ by 5–10 %.
 *
 *   node --import tsx bench/instructions.ts [--flows 200] [--warm-flows 300] [--concurrency 2]
 *        [--only product|floor] [--idle-seconds 10] [--top 25] [--slow-timers 50] [--out /tmp/famos-instructions]
 *
 * `--slow-timers 50` (the default; 1 for none): the product's wall-clock work (the mail sender's 2 s poll,
 * the idle collection after 5 s without a new request, the event loop's sampler) otherwise grows with a
 * flow's wall time under valgrind, which the machine's load sets (bench/HISTORY.md, the fortieth round):
 * lib/slow-timers.mjs stretches those timers by valgrind's pace.
 *
 * `--cached-hashes`: lib/cached-hashes.mjs preloaded into both servers, argon2's verify answering a pair it
 * checked once from that answer (the hash threads' 85.8 M instructions per flow not run again): a flow
 * under valgrind costs a few times less, the main thread's work the same but for the hash's completion.
 *
 * Prints per flow: the main thread's instructions (the event loop), the hash threads' (those that ran
 * argon2) and the other threads' (V8's helpers, the checkpoint thread), each target's and product ÷
 * floor; then the main thread's instructions by part (SQLite, V8's builtins, its collector, libuv,
 * OpenSSL, glibc, JIT code named by Node's `--perf-basic-prof` map…) and the functions whose counts
 * differ most. The two servers run at once (valgrind runs a process's threads one at a time: one core
 * each). Under valgrind a flow takes ~0.5–1 s: 300 + 200 flows take some minutes.
 */
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { byPart, dumpFiles, PerfMap, readCallgrind, type ThreadCounts } from "./lib/callgrind.ts";
import { Driver } from "./lib/driver.ts";
import type { ServerProcess } from "./lib/proc.ts";
import type { Target } from "./lib/target.ts";
import { famosTarget } from "./scenarios/famos-target.ts";
import { floorTarget } from "./scenarios/floor-target.ts";

const { values: argv } = parseArgs({
  options: {
    flows: { type: "string", default: "200" },
    "warm-flows": { type: "string", default: "300" },
    concurrency: { type: "string", default: "2" },
    users: { type: "string", default: "64" },
    only: { type: "string" },
    "idle-seconds": { type: "string", default: "10" },
    top: { type: "string", default: "25" },
    out: { type: "string", default: join(tmpdir(), `famos-instructions-${process.pid}`) },
    "slow-timers": { type: "string", default: "50" },
    "cached-hashes": { type: "boolean", default: false },
  },
});
const flows = Number(argv.flows);
const out = argv.out;
mkdirSync(out, { recursive: true });

const SLOW_TIMERS = new URL("./lib/slow-timers.mjs", import.meta.url).href;
const CACHED_HASHES = new URL("./lib/cached-hashes.mjs", import.meta.url).href;

/** A program that runs this Node under callgrind, for ServerProcess's fork (arguments and IPC pass through). */
function valgrindNode(key: string): string {
  const path = join(out, `${key}-node.sh`);
  const flags = [
    "--tool=callgrind",
    "--separate-threads=yes",
    // V8 writes and rewrites code in memory it allocated: valgrind must see those writes.
    "--smc-check=all-non-file",
    "--dump-line=no",
    `--callgrind-out-file=${join(out, key)}.%p`,
    `--log-file=${join(out, key)}.valgrind.log`,
  ];
  writeFileSync(path, `#!/bin/sh\nexport BENCH_SLOW_TIMERS=${Number(argv["slow-timers"])}\nexec valgrind ${flags.join(" ")} ${process.execPath} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Zeroes (a window opens) or writes (it closes) the counts of every thread of the server, idle meanwhile. */
async function mark(server: ServerProcess, what: "zero" | "dump"): Promise<void> {
  await promisify(execFile)("callgrind_control", [what === "zero" ? "-z" : "-d", String(server.pid)], { timeout: 120_000 });
}

interface Measured {
  key: string;
  pid: number;
  flows: number;
  windowSeconds: number;
  idleSeconds: number;
  /** Dump 1: the flows' window; dump 2: the idle window. */
  window: ThreadCounts[];
  idle: ThreadCounts[];
}

/** Servers start one after the other: a port taken by freePort is free until its server listens. */
let starting: Promise<unknown> = Promise.resolve();

async function measure(target: Target): Promise<Measured> {
  const driver = await Driver.start();
  const workDir = join(out, `${target.key}-work`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const preparing = starting.then(() => target.prepare({
    sinkPort: driver.sinkPort,
    users: Number(argv.users),
    minUsers: 2 * Number(argv.concurrency),
    workDir,
    nodeFlags: ["--perf-basic-prof", ...(Number(argv["slow-timers"]) > 1 ? [`--import=${SLOW_TIMERS}`] : []), ...(argv["cached-hashes"] ? [`--import=${CACHED_HASHES}`] : [])],
    execPath: valgrindNode(target.key),
    readyTimeoutMs: 900_000,
  }));
  starting = preparing.catch(() => undefined);
  const prepared = await preparing;
  const { server } = prepared;
  const run = (n: number) =>
    driver.run({ scenario: "bench/scenarios/famos.ts", origin: prepared.origin, users: prepared.users, concurrency: Number(argv.concurrency), flows: n, durationMs: 3_600_000, flowTimeoutMs: 300_000 });
  try {
    const t0 = Date.now();
    const warm = await run(Number(argv["warm-flows"]));
    console.log(`${target.key}: ${warm.flowsOk} warm-up flows in ${((Date.now() - t0) / 1000).toFixed(0)} s (errors ${warm.errorCount})`);
    if (warm.flowsOk === 0) throw new Error(`${target.key}: no warm-up flow ended well: ${JSON.stringify(warm.errors)}\n${server.log}`);
    await mark(server, "zero");
    const t1 = Date.now();
    const result = await run(flows);
    const windowSeconds = (Date.now() - t1) / 1000;
    await mark(server, "dump");
    if (result.flowsOk !== flows) throw new Error(`${target.key}: ${result.flowsOk} of ${flows} flows ended well: ${JSON.stringify(result.errors)}`);
    const idleSeconds = Number(argv["idle-seconds"]);
    await mark(server, "zero");
    const t2 = Date.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    await mark(server, "dump");
    const idleMeasured = (Date.now() - t2) / 1000;
    const prefix = join(out, `${target.key}.${server.pid}`);
    console.log(`${target.key}: ${flows} flows in ${windowSeconds.toFixed(0)} s under valgrind`);
    return { key: target.key, pid: server.pid, flows, windowSeconds, idleSeconds: idleMeasured, window: dumpFiles(prefix, 1).map(readCallgrind), idle: dumpFiles(prefix, 2).map(readCallgrind) };
  } finally {
    await server.stop();
    await driver.close();
  }
}

const ranArgon2 = (t: ThreadCounts) => [...t.self.keys()].some((k) => /argon2/i.test(k));
/** Instructions per flow: the main thread, the hash threads, the others. */
function split(m: Measured) {
  const main = m.window.filter((t) => t.thread === 1);
  const hash = m.window.filter((t) => t.thread !== 1 && ranArgon2(t));
  const other = m.window.filter((t) => t.thread !== 1 && !ranArgon2(t));
  const per = (ts: ThreadCounts[]) => ts.reduce((s, t) => s + t.ir, 0) / m.flows;
  const idleMain = m.idle.filter((t) => t.thread === 1).reduce((s, t) => s + t.ir, 0) / m.idleSeconds;
  // What the main thread's timers (the mail sender's poll, the event loop's delay sampling) cost in the
  // window's wall time: under valgrind a flow takes ~50× as long, so they weigh ~50× what they do live.
  const timers = (idleMain * m.windowSeconds) / m.flows;
  return { main: per(main), timers, hash: per(hash), other: per(other), hashThreads: hash.length, idleMainPerSecond: idleMain, mainThreads: main };
}

/** /tmp and --out may be different file systems. */
function renameOrCopy(from: string, to: string): void {
  copyFileSync(from, to);
  rmSync(from, { force: true });
}

const M = (n: number) => `${(n / 1e6).toFixed(2)} M`;
const targets = [famosTarget, floorTarget].filter((t) => !argv.only || argv.only === t.key);
const measured = await Promise.all(targets.map((t) => measure(t)));
const splits = new Map(measured.map((m) => [m.key, split(m)]));
console.log(`\ninstructions per complete flow (${flows} flows after ${argv["warm-flows"]} warm-up, ${argv.concurrency} virtual users${argv["cached-hashes"] ? ", hashes cached (--cached-hashes)" : ""}; valgrind ${process.env.VALGRIND_VERSION ?? ""}callgrind, Node ${process.version}):`);
for (const m of measured) {
  const s = splits.get(m.key)!;
  console.log(
    `  ${m.key.padEnd(8)} main thread ${M(s.main)} (the idle rate × the window's wall time: ${M(s.timers)}), hash threads ${M(s.hash)} (${s.hashThreads} threads), other threads ${M(s.other)}; idle main thread ${M(s.idleMainPerSecond)}/s, ${(m.windowSeconds / m.flows).toFixed(2)} s per flow under valgrind`,
  );
}
const product = splits.get("product");
const floor = splits.get("floor");
if (product && floor) {
  console.log(`  product ÷ floor: main thread ${(product.main / floor.main).toFixed(3)}, hash threads ${(product.hash / floor.hash).toFixed(3)}, other threads ${(product.other / floor.other).toFixed(3)}`);
}
for (const m of measured) {
  const jit = new PerfMap(m.pid);
  const parts = byPart(splits.get(m.key)!.mainThreads, jit);
  (m as Measured & { parts?: ReturnType<typeof byPart> }).parts = parts;
  // Kept beside the callgrind files: it names their JIT code's addresses for any later reading.
  if (existsSync(`/tmp/perf-${m.pid}.map`)) renameOrCopy(`/tmp/perf-${m.pid}.map`, join(out, `perf-${m.pid}.map`));
}
const partsOf = (key: string) => (measured.find((m) => m.key === key) as (Measured & { parts?: ReturnType<typeof byPart> }) | undefined)?.parts;
const [pp, fp] = [partsOf("product"), partsOf("floor")];
const rows = (a?: Map<string, number>, b?: Map<string, number>) =>
  [...new Set([...(a?.keys() ?? []), ...(b?.keys() ?? [])])]
    .map((k) => [k, (a?.get(k) ?? 0) / flows, (b?.get(k) ?? 0) / flows] as const)
    .sort((x, y) => Math.abs(y[1] - y[2]) - Math.abs(x[1] - x[2]));
const K = (n: number) => `${(n / 1e3).toFixed(0)} k`.padStart(9);
console.log("\nmain thread by part, instructions per flow (self): product, floor, difference");
for (const [part, p, f] of rows(pp?.parts, fp?.parts)) console.log(`${K(p)} ${K(f)} ${K(p - f)}  ${part}`);
console.log(`\nmain thread by function, the ${argv.top} largest differences: product, floor, difference`);
for (const [key, p, f] of rows(pp?.functions, fp?.functions).slice(0, Number(argv.top))) console.log(`${K(p)} ${K(f)} ${K(p - f)}  ${key.replace("\t", ": ").slice(0, 150)}`);
writeFileSync(
  join(out, "summary.json"),
  JSON.stringify({ flows, warmFlows: Number(argv["warm-flows"]), concurrency: Number(argv.concurrency), targets: Object.fromEntries([...splits].map(([k, s]) => [k, { main: s.main, timers: s.timers, hash: s.hash, other: s.other, idleMainPerSecond: s.idleMainPerSecond }])), parts: { product: pp ? Object.fromEntries(pp.parts) : null, floor: fp ? Object.fromEntries(fp.parts) : null } }, null, 1),
);
console.log(`\ncallgrind's files and summary.json in ${out} (callgrind_annotate <file> reads one thread's dump)`);
