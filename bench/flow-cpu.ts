/**
 * CPU per complete sign-in, split into the event loop's share and the thread pool's (the hashing), at a
 * fixed paced rate so that two builds compare under the same load — on a shared machine, where
 * wall-clock throughput says little, CPU time per flow still does. Each round runs every build in turn
 * (A, B, A, B, …) so that a change in the machine's load falls on both alike; the argon2id verify's CPU
 * is measured in the same rounds, and every figure is also given as a ratio to it.
 *
 *   node --import tsx bench/flow-cpu.ts [--rate 8] [--concurrency 4] [--seconds 8] [--rounds 3]
 *        [--warm-flows 0] [--postgres postgres://postgres@127.0.0.1:5432/test] [--build <dir with bin/ and dist/>[::<extra node flags>]]…  (default: this checkout's build)
 *
 * A build directory is what `npm run build` leaves (bin/famos.js and dist/), e.g. a copy of an earlier
 * commit's: `cp -r bin dist /tmp/old/ && ln -s $PWD/node_modules /tmp/old/`. After `::`, node flags
 * for that server only, to compare runtime settings on one build: `--build . --build ".::--single-threaded-gc"`.
 * A build directory with an executable `node` in it (a file or a link) runs on that Node (its server
 * and its command line), to compare Node versions on one build: `scripts/node-copy.sh 24 <dir>` makes
 * `<dir>/app` (the Dockerfile's Node, better-sqlite3 rebuilt for its ABI), run as `--build <dir>/app`.
 * Each server's garbage collections per flow (from its /metrics) are printed with its threads (id and name;
 * on Node 20 all are "node": V8's four platform workers are the ids made at start, libuv's pool the four made at the first hash).
 * `--floor` (or `--build floor`, with `floor::<flags>` as above) adds the floor server
 * (bench/lib/floor-server.ts: the same flow with only HTTP, one argon2id verify and one mail) to the
 * rounds, for the product's distance from what any server must spend:
 *   node --import tsx bench/flow-cpu.ts --rate 20 --concurrency 4 --rounds 2 --seconds 15 --build . --floor
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Driver } from "./lib/driver.ts";
import { measureArgon2, productHashConcurrency } from "./lib/measure.ts";
import { cpuMs, freePort, runCommand, ServerProcess, type ServerStats } from "./lib/proc.ts";
import { readMetrics, routeMeansMs, windowQuantiles } from "./lib/server-histogram.ts";
import { fmt } from "./lib/stats.ts";
import { PRODUCT_BIN, PRODUCT_MAIN, PRODUCT_USER_PREFIX, productEnv, REPO_ROOT, usersCsv } from "./scenarios/famos-target.ts";
import { makeUsers } from "./lib/users.ts";
import { startFloor } from "./scenarios/floor-target.ts";

const { values: argv } = parseArgs({
  options: {
    rate: { type: "string", default: "8" },
    concurrency: { type: "string", default: "4" },
    seconds: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    /** Complete flows run (as fast as the virtual users go) before the paced window, to warm the JIT: a server runs for days. */
    "warm-flows": { type: "string", default: "0" },
    /** Run the product on this PostgreSQL server (a fresh schema per server) instead of a SQLite file. */
    postgres: { type: "string" },
    build: { type: "string", multiple: true },
    floor: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    /** Linux perf: record the server's CPU samples (cpu-clock, on-CPU time only, with call graphs) during the window into this file. */
    perf: { type: "string" },
  },
});
const rate = Number(argv.rate);
const concurrency = Number(argv.concurrency);
const durationMs = Number(argv.seconds) * 1000;
const rounds = Number(argv.rounds);
/** The floor server's name among the builds (not a directory). */
const FLOOR = "floor";
const builds = [...(argv.build ?? (argv.floor ? [] : [REPO_ROOT])), ...(argv.floor ? [FLOOR] : [])].map((b) => {
  const [dir, flags] = b.split("::");
  const where = dir === FLOOR ? FLOOR : resolve(dir!);
  return flags === undefined ? where : `${where}::${flags}`;
});
const buildDir = (build: string) => build.split("::")[0]!;
const buildFlags = (build: string) => build.split("::")[1]?.split(/\s+/).filter(Boolean) ?? [];
/** The Node a build runs on: its own `node`, if it brings one, else this one. */
const buildNode = (build: string) => {
  const own = join(buildDir(build), "node");
  return buildDir(build) !== FLOOR && existsSync(own) ? own : process.execPath;
};

const driver = await Driver.start();
const workDir = await mkdtemp(join(tmpdir(), "famos-flow-cpu-"));
const users = makeUsers(PRODUCT_USER_PREFIX, 64);
const csv = join(workDir, "users.csv");
await (await import("node:fs/promises")).writeFile(csv, await usersCsv(users));
await runCommand(process.execPath, [join(REPO_ROOT, "scripts/build.js")], { cwd: REPO_ROOT, timeoutMs: 120_000 });

interface Sample {
  flows: number;
  total: number;
  main: number;
  codeSmtpP95: number;
}
const samples = new Map<string, Sample[]>(builds.map((b) => [b, []]));
const argonCpu: number[] = [];

/** PostgreSQL schemas made for the servers (--postgres), dropped at the end. */
const schemas: string[] = [];

async function startServer(build: string, index: number): Promise<ServerProcess> {
  if (buildDir(build) === FLOOR) return startFloor({ sinkPort: driver.sinkPort, users, nodeFlags: buildFlags(build) });
  const port = await freePort();
  const dbPath = join(workDir, `famos-${index}-${Date.now()}.db`);
  const schema = `flow_cpu_${index}_${Date.now()}`;
  const databaseUrl = argv.postgres ? `${argv.postgres}${argv.postgres.includes("?") ? "&" : "?"}schema=${schema}` : undefined;
  if (databaseUrl) schemas.push(schema);
  const env = { ...process.env, ...productEnv({ port, sinkPort: driver.sinkPort, dbPath, secret: randomBytes(32).toString("hex"), ...(databaseUrl ? { databaseUrl } : {}) }) };
  const dir = buildDir(build);
  const bin = dir === REPO_ROOT ? PRODUCT_BIN : join(dir, "bin/famos.js");
  // Each build migrates and imports with its own command line: an earlier build refuses a database
  // that a later one migrated.
  const cli = (args: string[]) =>
    dir === REPO_ROOT
      ? runCommand(process.execPath, ["--import", "tsx", PRODUCT_MAIN, ...args], { cwd: REPO_ROOT, env, timeoutMs: 120_000 })
      : runCommand(buildNode(build), [bin, ...args], { cwd: REPO_ROOT, env, timeoutMs: 120_000 });
  await cli(["migrate"]);
  await cli(["user", "import", csv]);
  return ServerProcess.start({
    name: `famos ${build}`,
    script: bin,
    execPath: buildNode(build),
    typescript: false,
    args: ["serve"],
    cwd: REPO_ROOT,
    env,
    port,
    nodeFlags: ["--max-semi-space-size=4", ...buildFlags(build), ...(argv.perf ? ["--perf-basic-prof", "--interpreted-frames-native-stack"] : []), ...(argv["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", resolve(argv["cpu-prof"])] : [])],
    readyTimeoutMs: 60_000,
  });
}

for (let round = 0; round < rounds; round += 1) {
  const a = await measureArgon2(3, productHashConcurrency());
  argonCpu.push(a.cpuMsPerVerify);
  for (const [i, build] of builds.entries()) {
    const server = await startServer(build, i);
    try {
      let before: ServerStats | null = null;
      let after: ServerStats | null = null;
      let recorder: ChildProcess | null = null;
      let metrics0: string | null = null;
      let metrics1: string | null = null;
      const warmFlows = Number(argv["warm-flows"]);
      if (warmFlows > 0) await driver.run({ scenario: "bench/scenarios/famos.ts", origin: `http://127.0.0.1:${server.port}`, users, concurrency, flows: warmFlows, durationMs: 600_000 });
      const result = await driver.run(
        { scenario: "bench/scenarios/famos.ts", origin: `http://127.0.0.1:${server.port}`, users, concurrency, ratePerSecond: rate, durationMs, warmupMs: 2000 },
        async (mark) => {
          if (mark === "window-open") {
            [before, metrics0] = await Promise.all([server.stats(), readMetrics(`http://127.0.0.1:${server.port}`)]);
            if (argv.perf) recorder = spawn("perf", ["record", "-g", "-e", "cpu-clock", "-F", "2000", "-p", String(server.pid), "-o", `${argv.perf}.${round}.${i}`], { stdio: "ignore" });
          } else {
            [after, metrics1] = await Promise.all([server.stats(), readMetrics(`http://127.0.0.1:${server.port}`)]);
            if (recorder) {
              const done = new Promise((r) => recorder!.once("exit", r));
              recorder.kill("SIGINT");
              await done;
            }
          }
        },
      );
      const b = before as ServerStats | null;
      const e = after as ServerStats | null;
      if (!b || !e) throw new Error("no stats");
      const flows = Math.max(1, result.flowsOk);
      const s: Sample = {
        flows: result.flowsOk,
        total: cpuMs(b, e) / flows,
        main: ((e.mainThreadCpuMs ?? Number.NaN) - (b.mainThreadCpuMs ?? Number.NaN)) / flows,
        codeSmtpP95: result.metrics["code→smtp"]?.p95 ?? Number.NaN,
      };
      const m0 = metrics0 as string | null;
      const m1 = metrics1 as string | null;
      const fromCode = windowQuantiles(m0, m1, "famos_code_to_smtp_seconds")?.p95 ?? null;
      samples.get(build)!.push(s);
      const threads = Object.entries(e.threadCpuMs ?? {})
        .map(([tid, ms]) => [tid, (ms - (b.threadCpuMs?.[tid] ?? 0)) / flows] as const)
        .filter(([, ms]) => ms > 0.05)
        .sort((p, q) => q[1] - p[1]);
      if (m0 !== null && m1 !== null) console.log(`  mean ms per request: ${routeMeansMs(m0, m1).map((r) => `${r.route} ${fmt(r.meanMs)}`).join(", ")}`);
      console.log(`  threads (ms/flow): ${threads.map(([tid, ms]) => `${tid === String(server.pid) ? "main" : `${tid}${e.threadNames?.[tid] ? ` (${e.threadNames[tid]})` : ""}`} ${fmt(ms)}`).join(", ")}`);
      if (m0 !== null && m1 !== null) console.log(`  garbage collections per flow: ${gcPerFlow(m0, m1, flows)}`);
      console.log(`  memory at the window's end: RSS ${fmt(e.rssBytes / 2 ** 20)} MB${e.heapUsedBytes === undefined ? "" : `, V8 heap used ${fmt(e.heapUsedBytes / 2 ** 20)} MB`}${e.heapTotalBytes === undefined ? "" : ` of ${fmt(e.heapTotalBytes / 2 ** 20)} MB taken`}`);
      if (e.mallocedBytes !== undefined) console.log(`  off V8's heap, MB: V8's malloc ${fmt(e.mallocedBytes / 2 ** 20)}, external ${fmt((e.externalBytes ?? 0) / 2 ** 20)} (ArrayBuffers ${fmt((e.arrayBuffersBytes ?? 0) / 2 ** 20)})`);
      if (e.heapSpaces) console.log(`  V8 spaces, taken (used) MB: ${Object.entries(e.heapSpaces).filter(([, s]) => s.size > 0).map(([name, s]) => `${name} ${fmt(s.size / 2 ** 20)} (${fmt(s.used / 2 ** 20)})`).join(", ")}`);
      console.log(
        `round ${round + 1} ${build === REPO_ROOT ? "this checkout" : build}: ${s.flows} flows, CPU ${fmt(s.total)} ms/flow (event loop ${fmt(s.main)}), argon2id ${fmt(a.cpuMsPerVerify)} ms/verify → ${fmt(s.total / a.cpuMsPerVerify)}× (event loop ${fmt(s.main / a.cpuMsPerVerify)}×), code→SMTP p95 ${fmt(s.codeSmtpP95)} ms (from the code, server's histogram: ${fromCode === null ? "–" : `≤ ${fmt(fromCode)}`} ms), errors ${result.errorCount}`,
      );
    } finally {
      await server.stop();
    }
  }
}
/** Collections per flow by kind, and their pause per flow, from prom-client's famos_nodejs_gc_duration_seconds. */
function gcPerFlow(m0: string, m1: string, flows: number): string {
  const read = (text: string, what: "count" | "sum") => {
    const out = new Map<string, number>();
    for (const line of text.split("\n")) {
      const m = new RegExp(`^famos_nodejs_gc_duration_seconds_${what}\\{kind="(\\w+)"\\} ([0-9.e+-]+)$`).exec(line);
      if (m) out.set(m[1]!, Number(m[2]));
    }
    return out;
  };
  const [c0, c1, s0, s1] = [read(m0, "count"), read(m1, "count"), read(m0, "sum"), read(m1, "sum")];
  return [...c1].map(([kind, n]) => `${kind} ${fmt((n - (c0.get(kind) ?? 0)) / flows)} (${fmt((((s1.get(kind) ?? 0) - (s0.get(kind) ?? 0)) * 1000) / flows)} ms)`).join(", ") || "–";
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? Number.NaN;
const argon = median(argonCpu);
console.log(`\nmedians over ${rounds} rounds (argon2id ${fmt(argon)} ms CPU per verify):`);
for (const [build, list] of samples) {
  const total = median(list.map((s) => s.total));
  const main = median(list.map((s) => s.main));
  console.log(`  ${build === REPO_ROOT ? "this checkout" : build}: ${fmt(total)} ms/flow = ${fmt(total / argon)}× argon2id; event loop ${fmt(main)} ms/flow = ${fmt(main / argon)}×`);
}
await driver.close();
await rm(workDir, { recursive: true, force: true });
if (argv.postgres && schemas.length > 0) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: argv.postgres });
  await client.connect();
  for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
}
