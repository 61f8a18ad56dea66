/**
 * The load driver. `Driver.start()` forks this same file as a child process (its own event loop and
 * CPU share, apart from the orchestrator's); the child hosts the SMTP sink (so a scenario waits for codes
 * in-process, on the same clock as its requests) and runs load on request:
 *
 *   const driver = await Driver.start();             // driver.sinkPort: point the server's SMTP here
 *   const r = await driver.run({ scenario, origin, users, concurrency: 16, durationMs: 20_000 });
 *   await driver.close();
 *
 * A run drives `concurrency` virtual users over one keep-alive undici pool (one connection each), for
 * `durationMs` after `warmupMs` (or for a number of `flows`). Only what completes inside the measuring
 * window counts. The result holds per-step latency summaries and rates, the flow rate, extra metrics
 * reported by the scenario (e.g. code → SMTP acceptance), errors by step and message, and the driver's
 * own CPU use.
 */
import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Pool } from "undici";
import { VuHttp } from "./http.ts";
import { SmtpSink } from "./smtp-sink.ts";
import { Samples, type LatencySummary } from "./stats.ts";
import type { BenchUser, FlowContext, ScenarioModule, StepRole } from "./types.ts";

export interface RunOptions {
  /** Path (absolute, or relative to the working directory) of the scenario module. */
  scenario: string;
  /** e.g. http://127.0.0.1:4100 */
  origin: string;
  users: BenchUser[];
  concurrency: number;
  /** Length of the measuring window. Either this or `flows`. */
  durationMs?: number;
  /** Stop after this many flows have been started (all counted; no warm-up; `durationMs` caps it). */
  flows?: number;
  /** Pace flow starts to this many per second overall (open-loop-like; needs enough virtual users). */
  ratePerSecond?: number;
  /** Flows run but not counted before the window opens (duration mode). Default 2000 ms. */
  warmupMs?: number;
  params?: Record<string, unknown>;
  /** A flow taking longer than this is abandoned as an error. Default 30 s. */
  flowTimeoutMs?: number;
  label?: string;
}

export interface StepResult {
  name: string;
  role?: StepRole;
  /** Completions per second inside the window. */
  rate: number;
  latency: LatencySummary;
}

export interface RunResult {
  label: string;
  concurrency: number;
  /** Measuring window, ms. */
  elapsedMs: number;
  flowsOk: number;
  flowsFailed: number;
  /** Successful flows over the whole run, warm-up and tail included (sessions the server now holds). */
  flowsTotal: number;
  flowRate: number;
  /** HTTP requests answered per second inside the window. */
  httpRate: number;
  flowLatency: LatencySummary;
  steps: StepResult[];
  /** Rates of the steps with a role: password steps/s, code confirmations/s. */
  roleRates: Partial<Record<StepRole, number>>;
  metrics: Record<string, LatencySummary>;
  errors: Record<string, number>;
  errorCount: number;
  /** CPU the driver process itself used during the window, ms (user+system). */
  driverCpuMs: number;
  /** Mails the sink received during the window. */
  mailsReceived: number;
}

export type DriverMark = "window-open" | "window-close";

type ToChild = { type: "run"; id: number; options: RunOptions } | { type: "close" };
type FromChild =
  | { type: "ready"; sinkPort: number }
  | { type: "mark"; id: number; mark: DriverMark }
  | { type: "result"; id: number; result: RunResult }
  | { type: "failed"; id: number; message: string };

const CHILD_FLAG = "BENCH_DRIVER_CHILD";

// ---------------------------------------------------------------------------------------------------
// Parent side

export class Driver {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: RunResult) => void; reject: (e: Error) => void; onMark?: (m: DriverMark) => unknown }
  >();

  private constructor(
    private readonly child: ChildProcess,
    readonly sinkPort: number,
  ) {
    child.on("message", (msg: FromChild) => {
      if (msg.type === "ready") return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === "mark") {
        void Promise.resolve(p.onMark?.(msg.mark)).finally(() => child.send({ type: "mark-ack", id: msg.id }));
        return;
      }
      this.pending.delete(msg.id);
      if (msg.type === "result") p.resolve(msg.result);
      else p.reject(new Error(msg.message));
    });
    child.on("exit", (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`driver process exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  /** Forks the driver process and starts its SMTP sink. */
  static async start(): Promise<Driver> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, [CHILD_FLAG]: "1" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const sinkPort = await new Promise<number>((resolve, reject) => {
      const onMessage = (msg: FromChild): void => {
        if (msg.type === "ready") {
          child.off("exit", onExit);
          child.off("message", onMessage);
          resolve(msg.sinkPort);
        }
      };
      const onExit = (code: number | null): void => reject(new Error(`driver process exited at start (${code})`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
    return new Driver(child, sinkPort);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Runs load. `onMark` is called when the measuring window opens and closes (e.g. to read the server's
   * CPU counters); the driver waits for it to settle, then goes on.
   */
  run(options: RunOptions, onMark?: (mark: DriverMark) => unknown): Promise<RunResult> {
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onMark });
      this.child.send({ type: "run", id, options } satisfies ToChild);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "close" } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------
// Child side

function errorKey(step: string, error: unknown): string {
  const message = error instanceof Error ? `${error.name === "FlowError" ? "" : `${error.name}: `}${error.message}` : String(error);
  // Long digit runs (codes, ids) would split one error into many keys.
  return `${step}: ${message.replace(/\d{5,}/g, "#").slice(0, 200)}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function runLoad(
  sink: SmtpSink,
  options: RunOptions,
  mark: (m: DriverMark) => Promise<void>,
): Promise<RunResult> {
  const mod = (await import(pathToFileURL(resolve(options.scenario)).href)) as ScenarioModule;
  if (!Array.isArray(mod.steps) || mod.steps.length === 0) throw new Error(`${options.scenario} exports no steps`);
  const steps = mod.steps;
  const C = options.concurrency;
  if (options.users.length < C) throw new Error(`${options.users.length} users for ${C} virtual users: need at least one each`);
  const shares: BenchUser[][] = Array.from({ length: C }, () => []);
  options.users.forEach((u, j) => shares[j % C]?.push(u));

  const flowMode = options.flows !== undefined;
  const warmupMs = flowMode ? 0 : (options.warmupMs ?? 2_000);
  const durationMs = options.durationMs ?? 10_000;
  const flowTimeoutMs = options.flowTimeoutMs ?? 30_000;

  const pool = new Pool(options.origin, {
    connections: C,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: flowTimeoutMs,
    bodyTimeout: flowTimeoutMs,
  });

  const stepSamples = steps.map(() => new Samples());
  const flowSamples = new Samples();
  const metricSamples = new Map<string, Samples>();
  const errors: Record<string, number> = {};
  let errorCount = 0;
  let flowsOk = 0;
  let flowsFailed = 0;
  let flowsStarted = 0;
  let flowsTotal = 0;
  let httpResponses = 0;
  const paceMs = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;
  let nextSlot = performance.now();

  let windowOpen = Number.POSITIVE_INFINITY;
  let windowClose = Number.POSITIVE_INFINITY;
  let stopping = false;
  const inWindow = (t: number): boolean => t >= windowOpen && t <= windowClose;

  let cpuAtOpen = process.cpuUsage();
  let mailsAtOpen = sink.received;
  let cpuMs = 0;
  let mails = 0;

  const vu = async (i: number): Promise<void> => {
    const share = shares[i] as BenchUser[];
    const http = new VuHttp(pool, options.origin, () => {
      if (inWindow(performance.now())) httpResponses++;
    });
    let k = 0;
    while (!stopping) {
      if (flowMode && flowsStarted >= (options.flows as number)) break;
      const flow = flowsStarted++;
      if (paceMs > 0) {
        const slot = nextSlot;
        nextSlot = Math.max(nextSlot + paceMs, performance.now() - 10 * paceMs);
        const wait = slot - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (stopping) break;
      }
      const user = share[k++ % share.length] as BenchUser;
      http.reset();
      const pendingMetrics: [string, number][] = [];
      const ctx: FlowContext = {
        http,
        user,
        sink,
        vu: i,
        flow,
        state: {},
        params: options.params ?? {},
        metric: (name, ms) => pendingMetrics.push([name, ms]),
        now: () => performance.now(),
      };
      const flowStart = performance.now();
      let failed = false;
      const timings: number[] = [];
      for (let s = 0; s < steps.length; s++) {
        const step = steps[s]!;
        const start = performance.now();
        try {
          await withTimeout(step.run(ctx), flowTimeoutMs, step.name);
        } catch (error) {
          failed = true;
          if (inWindow(performance.now())) {
            errorCount++;
            const key = errorKey(step.name, error);
            errors[key] = (errors[key] ?? 0) + 1;
          }
          break;
        }
        const end = performance.now();
        timings.push(end - start);
        if (inWindow(end)) stepSamples[s]!.add(end - start);
      }
      const flowEnd = performance.now();
      if (!failed) flowsTotal++;
      if (inWindow(flowEnd)) {
        if (failed) flowsFailed++;
        else {
          flowsOk++;
          flowSamples.add(flowEnd - flowStart);
          for (const [name, ms] of pendingMetrics) {
            let samples = metricSamples.get(name);
            if (!samples) metricSamples.set(name, (samples = new Samples()));
            samples.add(ms);
          }
        }
      }
      // A failed flow: back off a little so a dead server is not hammered in a tight loop.
      if (failed) await new Promise((r) => setTimeout(r, 20));
    }
  };

  const timers: NodeJS.Timeout[] = [];
  const openWindow = async (): Promise<void> => {
    await mark("window-open");
    windowOpen = performance.now();
    cpuAtOpen = process.cpuUsage();
    mailsAtOpen = sink.received;
  };
  const closeWindow = async (): Promise<void> => {
    windowClose = performance.now();
    const cpu = process.cpuUsage(cpuAtOpen);
    cpuMs = (cpu.user + cpu.system) / 1000;
    mails = sink.received - mailsAtOpen;
    stopping = true;
    await mark("window-close");
  };

  if (flowMode) {
    await openWindow();
    if (options.durationMs !== undefined) timers.push(setTimeout(() => (stopping = true), options.durationMs));
    await Promise.all(Array.from({ length: C }, (_, i) => vu(i)));
    await closeWindow();
  } else {
    const windowDone = new Promise<void>((resolve) => {
      timers.push(
        setTimeout(() => {
          void openWindow().then(() => {
            timers.push(setTimeout(() => void closeWindow().then(resolve), durationMs));
          });
        }, warmupMs),
      );
    });
    const vus = Promise.all(Array.from({ length: C }, (_, i) => vu(i)));
    await windowDone;
    await vus;
  }
  for (const t of timers) clearTimeout(t);
  await pool.close();

  const elapsedMs = windowClose - windowOpen;
  const perSecond = (n: number): number => (n * 1000) / elapsedMs;
  const stepResults: StepResult[] = steps.map((step, s) => ({
    name: step.name,
    ...(step.role ? { role: step.role } : {}),
    rate: perSecond(stepSamples[s]!.count),
    latency: stepSamples[s]!.summary(),
  }));
  const roleRates: Partial<Record<StepRole, number>> = {};
  for (const r of stepResults) if (r.role) roleRates[r.role] = (roleRates[r.role] ?? 0) + r.rate;
  const metrics: Record<string, LatencySummary> = {};
  for (const [name, samples] of metricSamples) metrics[name] = samples.summary();
  return {
    label: options.label ?? `c=${C}`,
    concurrency: C,
    elapsedMs,
    flowsOk,
    flowsFailed,
    flowsTotal,
    flowRate: perSecond(flowsOk),
    httpRate: perSecond(httpResponses),
    flowLatency: flowSamples.summary(),
    steps: stepResults,
    roleRates,
    metrics,
    errors,
    errorCount,
    driverCpuMs: cpuMs,
    mailsReceived: mails,
  };
}

async function childMain(): Promise<void> {
  const sink = new SmtpSink();
  const sinkPort = await sink.start(0);
  const send = (msg: FromChild): void => {
    process.send?.(msg);
  };
  const markAcks = new Map<number, () => void>();
  process.on("message", (msg: ToChild | { type: "mark-ack"; id: number }) => {
    if (msg.type === "mark-ack") {
      markAcks.get(msg.id)?.();
      markAcks.delete(msg.id);
      return;
    }
    if (msg.type === "close") {
      void sink.close().finally(() => process.exit(0));
      return;
    }
    const id = msg.id;
    const mark = (m: DriverMark): Promise<void> =>
      new Promise<void>((resolve) => {
        markAcks.set(id, resolve);
        send({ type: "mark", id, mark: m });
      });
    runLoad(sink, msg.options, mark).then(
      (result) => send({ type: "result", id, result }),
      (error: unknown) => send({ type: "failed", id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  send({ type: "ready", sinkPort });
}

if (process.env[CHILD_FLAG] === "1" && process.send !== undefined) {
  delete process.env[CHILD_FLAG];
  await childMain();
}
