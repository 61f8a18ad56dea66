/**
 * Servers under test as child processes: started with the stats probe preloaded, waited for until their
 * port answers, asked for CPU and memory over IPC (falling back to /proc), and stopped by their own pid.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, connect, type AddressInfo } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface ServerStats {
  cpuUserMs: number;
  cpuSystemMs: number;
  rssBytes: number;
  heapUsedBytes?: number;
  /** V8's heap as taken from the system, and per space (the probe's v8.getHeapSpaceStatistics()). */
  heapTotalBytes?: number;
  heapSpaces?: Record<string, { size: number; used: number }>;
  /** Off V8's heap: V8's own malloc (getHeapStatistics().malloced_memory), external memory, ArrayBuffers. */
  mallocedBytes?: number;
  externalBytes?: number;
  arrayBuffersBytes?: number;
  maxRssBytes?: number;
  /** CPU of the main thread alone (the event loop), ms, from /proc/self/task (null elsewhere). */
  mainThreadCpuMs?: number | null;
  /** CPU of each thread, ms, by thread id (Linux). */
  threadCpuMs?: Record<string, number>;
  /** Each thread's name (/proc/self/task/<tid>/stat's comm), by thread id (Linux). */
  threadNames?: Record<string, string>;
  source: "process.cpuUsage" | "/proc";
}

export const PROBE_PATH = fileURLToPath(new URL("./probe.mjs", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Keeps the last `limit` characters of a stream (a server's log must be drained, not all kept). */
class Tail {
  private text = "";
  constructor(private readonly limit = 16_384) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return this.text.slice(-this.limit);
  }
}

export interface StartOptions {
  name: string;
  /** Load tsx so `script` may be TypeScript (default true; the product runs its compiled build). */
  typescript?: boolean;
  /** The Node entry module (TS is fine unless `typescript` is false). */
  script: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  port: number;
  readyTimeoutMs?: number;
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** The Node to run it on (default: this one). */
  execPath?: string;
}

export class ServerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (s: ServerStats) => void>();
  readonly log = new Tail();
  private exited = false;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on("data", (c: Buffer) => this.log.push(c));
    child.stderr?.on("data", (c: Buffer) => this.log.push(c));
    // BENCH_SERVER_LOG=<file>: the whole of each server's output appended there too (e.g. with
    // `--build ".::--trace-deopt"` in flow-cpu.ts), where `log` keeps only its end.
    const whole = process.env.BENCH_SERVER_LOG;
    if (whole) {
      const out = createWriteStream(whole, { flags: "a" });
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
      child.once("exit", () => out.end());
    }
    child.on("message", (msg: { type?: string; id?: number; stats?: ServerStats }) => {
      if (msg?.type === "bench-stats" && msg.id !== undefined && msg.stats) {
        this.waiting.get(msg.id)?.(msg.stats);
        this.waiting.delete(msg.id);
      }
    });
    child.on("exit", () => {
      this.exited = true;
    });
  }

  static async start(options: StartOptions): Promise<ServerProcess> {
    const child = fork(options.script, options.args ?? [], {
      ...(options.execPath ? { execPath: options.execPath } : {}),
      cwd: options.cwd,
      env: options.env ?? process.env,
      execArgv: [...(options.nodeFlags ?? []), ...(options.typescript === false ? [] : ["--import", "tsx"]), "--import", pathToFileURL(PROBE_PATH).href],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const server = new ServerProcess(options.name, child, options.port);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (server.exited) throw new Error(`${options.name} exited during start (code ${child.exitCode}):\n${server.log}`);
      if (await canConnect(options.port)) return server;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.stop();
    throw new Error(`${options.name} did not listen on ${options.port} within ${options.readyTimeoutMs ?? 30_000} ms:\n${server.log}`);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** CPU time and memory, from inside the process (probe), else from /proc. */
  async stats(): Promise<ServerStats> {
    if (!this.exited && this.child.connected) {
      const id = this.nextId++;
      const viaIpc = new Promise<ServerStats | null>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(id);
          resolve(null);
        }, 1_000);
        this.waiting.set(id, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
      });
      this.child.send({ type: "bench-stats", id });
      const s = await viaIpc;
      if (s) return s;
    }
    return procStats(this.pid);
  }

  /** Samples RSS every `everyMs` until the returned function is called; it gives the peak. */
  sampleRss(everyMs = 500): () => number {
    let peak = 0;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.stats()
        .then((s) => {
          peak = Math.max(peak, s.rssBytes);
        })
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, everyMs);
    return () => {
      clearInterval(timer);
      return peak;
    };
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await done;
    clearTimeout(timer);
  }
}

/** utime+stime and RSS of a process from /proc (Linux). */
export async function procStats(pid: number): Promise<ServerStats> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = 100; // USER_HZ on Linux
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return {
    cpuUserMs: (utime * 1000) / ticks,
    cpuSystemMs: (stime * 1000) / ticks,
    rssBytes: rssPages * 4096,
    source: "/proc",
  };
}

export function cpuMs(a: ServerStats, b: ServerStats): number {
  return b.cpuUserMs + b.cpuSystemMs - (a.cpuUserMs + a.cpuSystemMs);
}

/** Runs a command to completion, collecting its output; rejects on a non-zero exit. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${stderr.slice(-4000)}${stdout.slice(-2000)}`));
    });
    child.stdin.end(options.input ?? "");
  });
}
