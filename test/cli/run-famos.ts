import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app.ts";
import { ensureBuilt, FAMOS_BIN as BIN } from "../support/server-process.ts";
import { famosInProcess } from "./famos-in-process.ts";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A scratch directory with its own SQLite database, for a series of real `famos` runs. */
export interface CliWorkspace {
  dir: string;
  databaseUrl: string;
  /** `stdin` as text, or as bytes (what a file in another encoding gives). */
  /** `prefix`: a command that runs famos (the words after it), e.g. setpriv to run it as another user. */
  run(args: string[], options?: { stdin?: string | Buffer; env?: Record<string, string>; prefix?: string[] }): Promise<CliResult>;
  /**
   * As `run`, on a terminal: script(1) gives the command a pseudo-terminal, and each of `typed` is
   * sent once the command has written its next prompt (a line ending in ": "), as a person types.
   */
  runOnTerminal(args: string[], typed: Buffer[]): Promise<CliResult>;
  /**
   * As `run` (no standard input), through the CLI's main() in this process (famosInProcess): the same
   * command, output and exit code without a process's start. `run` is for what only a real process
   * shows (the bundle, exit codes as the shell sees them, terminals, signals).
   */
  inProcess(args: string[], options?: { env?: Record<string, string> }): Promise<CliResult>;
  remove(): void;
}

export function cliWorkspace(): CliWorkspace {
  const dir = mkdtempSync(join(tmpdir(), "famos-cli-"));
  const databaseUrl = `sqlite:${join(dir, "famos.db")}`;
  // Only the test's own FAMOS_ variables reach the child, whatever the shell running the tests has set.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FAMOS_")));
  const env = { ...base, FAMOS_DATABASE_URL: databaseUrl, FAMOS_SECRET: TEST_SECRET, FAMOS_LOG_LEVEL: "warn" };
  return {
    dir,
    databaseUrl,
    run(args, options = {}) {
      ensureBuilt();
      return new Promise((resolve, reject) => {
        const [command, ...words] = [...(options.prefix ?? []), process.execPath, BIN, ...args];
        const child = spawn(command!, words, {
          cwd: dir,
          env: { ...env, ...options.env },
          stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
        // A pipe, not a terminal: `user add` reads one line, `user import` draws no progress bar.
        child.stdin.end(options.stdin ?? "");
      });
    },
    runOnTerminal(args, typed) {
      ensureBuilt();
      const command = [process.execPath, BIN, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
      return new Promise((resolve, reject) => {
        const child = spawn("script", ["--quiet", "--return", "--command", command, "/dev/null"], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe"] });
        let output = "";
        let answered = 0;
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          output += chunk;
          if (/: $/.test(output) && answered < typed.length) child.stdin.write(typed[answered++]!);
        });
        // A command still waiting for input it will not get (a prompt the test did not expect) is
        // ended, with its terminal, before the test's own time runs out.
        const deadline = setTimeout(() => child.kill("SIGTERM"), 20_000);
        child.on("error", reject);
        // The terminal joins standard output and error, with CR LF line ends.
        child.on("close", (code) => {
          clearTimeout(deadline);
          resolve({ code, stdout: output.replaceAll("\r\n", "\n"), stderr: "" });
        });
      });
    },
    inProcess(args, options = {}) {
      return famosInProcess(args, { ...env, ...options.env });
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test app in this process and real `famos` runs sharing one database; the runs mail through the app's SMTP server. */
export interface CliApp {
  readonly cli: CliWorkspace;
  readonly t: TestApp;
}

/**
 * The fixture of the command-line tests: a workspace and a test app on its database, made before the
 * file's tests and removed after them. Each `cli.run` gets the mail settings of the app's SMTP server
 * (a test's own `env` adds to them), so what a command mails arrives where the test reads it.
 */
export function useCliApp(): CliApp {
  let cli: CliWorkspace | undefined;
  let t: TestApp | undefined;
  beforeAll(async () => {
    const workspace = cliWorkspace();
    t = await createTestApp({ env: { FAMOS_DATABASE_URL: workspace.databaseUrl } });
    const mail = { FAMOS_SMTP_URL: t.smtp.url, FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>", FAMOS_SUPPORT_EMAIL: "retailit@famos.test" };
    cli = {
      ...workspace,
      run: (args, options = {}) => workspace.run(args, { ...options, env: { ...mail, ...options.env } }),
      inProcess: (args, options = {}) => workspace.inProcess(args, { env: { ...mail, ...options.env } }),
    };
  });
  afterAll(async () => {
    await t?.close();
    cli?.remove();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useCliApp: used outside a test (before beforeAll ran)");
    return value;
  };
  return {
    get cli() {
      return ready(cli);
    },
    get t() {
      return ready(t);
    },
  };
}
