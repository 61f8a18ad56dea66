/**
 * The raw limits, measured in the same run as the flows:
 *  - argon2id verifications per second with @node-rs/argon2 at the product's parameters, as many at once
 *    as the libuv thread pool has threads, in a child process of its own (and its CPU per verify);
 *  - a bare Fastify 5 route's requests per second (server in a child process, autocannon in this one),
 *    with the server's CPU per request;
 *  - helpers to turn a server's CPU and memory counters into per-flow figures.
 */
import { fork } from "node:child_process";
import { availableParallelism, cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { hash, verify } from "@node-rs/argon2";
import autocannon from "autocannon";
import { cpuMs, freePort, ServerProcess, type ServerStats } from "./proc.ts";

/** OWASP's argon2id: 19 MiB, 2 passes, 1 lane — the product's parameters. */
export const ARGON2_PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
export const BENCH_PASSWORD = "Bench-password-2fa!";

export function threadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n > 0 ? n : 4;
}

/** How many argon2id hashes the product runs at once (src/password/hash.ts HASH_CONCURRENCY): one per core, at most the pool's threads. */
export function productHashConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1, Math.min(availableParallelism(), threadpoolSize(env)));
}

export interface Argon2Result {
  params: typeof ARGON2_PARAMS;
  concurrency: number;
  threadpool: number;
  seconds: number;
  verifies: number;
  perSecond: number;
  /** Process CPU (all threads) per verification. */
  cpuMsPerVerify: number;
}

const CHILD_FLAG = "BENCH_MEASURE_ARGON2";

/** Runs the argon2id measurement in a child process (so nothing else shares its event loop). */
export function measureArgon2(seconds = 5, concurrency = threadpoolSize()): Promise<Argon2Result> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [String(seconds), String(concurrency)], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, [CHILD_FLAG]: "1" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (msg: Argon2Result) => resolve(msg));
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`argon2 measurement exited ${code}`));
    });
  });
}

async function argon2Child(seconds: number, concurrency: number): Promise<Argon2Result> {
  const phc = await hash(BENCH_PASSWORD, ARGON2_PARAMS);
  if (!phc.startsWith("$argon2id$v=19$m=19456,t=2,p=1$")) throw new Error(`unexpected hash ${phc}`);
  const loop = async (until: number): Promise<number> => {
    let n = 0;
    while (performance.now() < until) {
      if (!(await verify(phc, BENCH_PASSWORD))) throw new Error("verify failed");
      n++;
    }
    return n;
  };
  // Warm-up: thread pool started, allocator settled.
  const warmUntil = performance.now() + 500;
  await Promise.all(Array.from({ length: concurrency }, () => loop(warmUntil)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: concurrency }, () => loop(t0 + seconds * 1000)));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const verifies = counts.reduce((a, b) => a + b, 0);
  return {
    params: ARGON2_PARAMS,
    concurrency,
    threadpool: threadpoolSize(),
    seconds: elapsed,
    verifies,
    perSecond: verifies / elapsed,
    cpuMsPerVerify: (cpu.user + cpu.system) / 1000 / verifies,
  };
}

export interface FastifyResult {
  connections: number;
  seconds: number;
  requests: number;
  perSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
  /** Server CPU per request, microseconds. */
  serverCpuUsPerRequest: number;
  serverRssBytes: number;
}

export async function measureBareFastify(seconds = 5, connections = 50): Promise<FastifyResult> {
  const port = await freePort();
  const server = await ServerProcess.start({
    name: "bare fastify",
    script: fileURLToPath(new URL("./bare-fastify.ts", import.meta.url)),
    args: [String(port)],
    port,
  });
  try {
    const url = `http://127.0.0.1:${port}/`;
    await autocannon({ url, connections, duration: 1 }); // warm-up: JIT, connections
    const before: ServerStats = await server.stats();
    const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
    const after: ServerStats = await server.stats();
    const requests = result.requests.total;
    return {
      connections,
      seconds: result.duration,
      requests,
      perSecond: requests / result.duration,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      serverCpuUsPerRequest: (cpuMs(before, after) * 1000) / Math.max(1, requests),
      serverRssBytes: after.rssBytes,
    };
  } finally {
    await server.stop();
  }
}

export interface MachineDescription {
  cpuModel: string;
  cpus: number;
  cpuSpeedMHz: number;
  memoryBytes: number;
  node: string;
  platform: string;
  release: string;
  threadpool: number;
}

export async function describeMachine(): Promise<MachineDescription> {
  const os = await import("node:os");
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cpus: list.length,
    cpuSpeedMHz: list[0]?.speed ?? 0,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    release: os.release(),
    threadpool: threadpoolSize(),
  };
}

if (process.env[CHILD_FLAG] === "1" && process.send !== undefined) {
  const [seconds, concurrency] = process.argv.slice(2).map(Number);
  const result = await argon2Child(seconds ?? 5, concurrency ?? threadpoolSize());
  process.send(result, () => process.exit(0));
}

export interface FlowCost {
  /** Server CPU (user+system, all threads) per completed flow, ms. */
  cpuMsPerFlow: number;
  /** The same less the argon2id verifications a flow needs (CPU per verify from measureArgon2). */
  beyondHashMs: number;
}

export function flowCost(before: ServerStats, after: ServerStats, flows: number, argon2CpuMsPerVerify: number, verifiesPerFlow = 1): FlowCost {
  const perFlow = cpuMs(before, after) / Math.max(1, flows);
  return { cpuMsPerFlow: perFlow, beyondHashMs: perFlow - argon2CpuMsPerVerify * verifiesPerFlow };
}

/** Machine-wide busy CPU time so far, ms, from /proc/stat (null where there is none). */
export async function machineBusyMs(): Promise<number | null> {
  try {
    const { readFile } = await import("node:fs/promises");
    const line = (await readFile("/proc/stat", "utf8")).split("\n", 1)[0] ?? "";
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
  } catch {
    return null;
  }
}
