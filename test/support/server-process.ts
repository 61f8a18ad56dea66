import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TEST_SECRET } from "./app.ts";
import { freePort } from "./nginx.ts";
import { until } from "./until.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** bin/famos.js, the launcher `npm start` and an installed `famos` run: it runs the build in dist/. */
export const FAMOS_BIN = fileURLToPath(new URL("../../bin/famos.js", import.meta.url));
const SETPRIV = "/usr/bin/setpriv";

let built = false;
/**
 * Brings dist/ up to date with the sources, once per test process, the way a developer's `npm start`
 * does (the launcher in development mode builds when a source is newer than the build). A test that
 * runs `famos` with NODE_ENV=production must not run an older build: the launcher never builds there.
 * Each build compiles into a folder of its own and renames the result into place, so two test
 * processes building at once, or a famos process starting meanwhile, never read a half-written file.
 */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [FAMOS_BIN, "--help"], { env: { ...process.env, NODE_ENV: "development" }, stdio: "ignore" });
  built = true;
}

/** Production settings for a real `famos` process in tests; add FAMOS_DATABASE_URL and FAMOS_SMTP_URL. */
export function productionEnv(extra: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: "production",
    FAMOS_SECRET: TEST_SECRET,
    FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
    FAMOS_SUPPORT_EMAIL: "retailit@famos.test",
    FAMOS_HOST: "127.0.0.1",
    FAMOS_RATE_LIMIT: "0",
    ...extra,
  };
}

/** The environment of a child: this process's, minus every FAMOS_ variable, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FAMOS_") && name !== "NODE_ENV"));
  return { ...base, ...env };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FamosCommand {
  child: ChildProcess;
  /** Standard output and error so far. */
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

/**
 * Runs `node bin/famos.js <args>` from the checkout, on the current build (ensureBuilt): what an
 * operator runs, and without a TypeScript loader in each process (through tsx, `famos serve` took
 * about 4.3 s of CPU to answer /healthz, against 1.7 s from dist/). With setpriv the child is sent
 * SIGTERM if this test process dies first, so no server outlives its test. `stdout`, a file
 * descriptor, is the child's standard output instead of a pipe to this process (stdout() is then "").
 */
export function runFamos(args: string[], env: Record<string, string>, input?: string, stdout: "pipe" | number = "pipe"): FamosCommand {
  ensureBuilt();
  const command = [process.execPath, FAMOS_BIN, ...args];
  const argv = existsSync(SETPRIV) ? [SETPRIV, "--pdeathsig", "TERM", "--", ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: childEnv(env), stdio: ["pipe", stdout, "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  child.stdin!.end(input ?? "");
  const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export interface ServerProcess extends FamosCommand {
  port: number;
  url: string;
  /** The JSON log lines written to standard output so far. */
  logLines(): Array<Record<string, unknown>>;
  /** SIGTERM (the default) or SIGKILL, then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** How long startServer waits for /healthz: most of a test's minute, less the rest of its work. */
export const START_WITHIN_MS = 45_000;

/** How many ports startServer tries when the one found free was taken before `famos serve` listened. */
const PORT_TRIES = 3;

/**
 * Starts `famos serve` on a free loopback port (or env's FAMOS_PORT) and waits until /healthz answers.
 * `stdout`: as runFamos's. A port `pickPort` found free (freePort: listen on 0, close) may be taken by
 * another process in the seconds before the server listens: the server refuses it (EADDRINUSE) and
 * is started again on another one, up to PORT_TRIES ports. A FAMOS_PORT given is tried once.
 */
export async function startServer(env: Record<string, string>, stdout: "pipe" | number = "pipe", pickPort: () => Promise<number> = freePort): Promise<ServerProcess> {
  if (env.FAMOS_PORT !== undefined) return startServerOn(Number(env.FAMOS_PORT), env, stdout);
  for (let tries = 1; ; tries += 1) {
    try {
      return await startServerOn(await pickPort(), env, stdout);
    } catch (error) {
      if (tries === PORT_TRIES || !/cannot listen on \S+ \(EADDRINUSE\)/.test(String(error))) throw error;
    }
  }
}

async function startServerOn(port: number, env: Record<string, string>, stdout: "pipe" | number): Promise<ServerProcess> {
  const proc = runFamos(["serve"], { ...env, FAMOS_PORT: String(port) }, undefined, stdout);
  const url = `http://127.0.0.1:${port}`;
  let exit: Exit | null = null;
  // An exit fails the start at once (until() would retry a failed look to its bound), and ends a
  // look in flight: on a port another process took, a request may never be answered.
  const gone = new AbortController();
  const exitedEarly = proc.exited.then((e) => {
    exit = e;
    gone.abort();
    throw new Error(`exited (${JSON.stringify(e)}):\n${proc.stderr()}${proc.stdout()}`);
  });
  try {
    await Promise.race([
      exitedEarly,
      until(
        `famos serve on port ${port}`,
        async () => exit !== null || (await fetch(`${url}/healthz`, { signal: gone.signal })).ok,
        // A start on a loaded 2-core machine (load 20) took over 20 s in CI (user-races.test.ts); 30 s
        // left little beyond that, and less than the hook's or test's own minute.
        START_WITHIN_MS,
        50,
      ),
    ]);
  } catch (error) {
    proc.child.kill("SIGKILL");
    throw new Error(`${String(error)}\n${proc.stderr()}`, { cause: error });
  }
  return {
    ...proc,
    port,
    url,
    logLines: () =>
      proc
        .stdout()
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop(signal = "SIGTERM") {
      if (exit) return exit;
      proc.child.kill(signal);
      return proc.exited;
    },
  };
}
