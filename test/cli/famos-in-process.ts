import { main } from "../../src/cli/main.ts";
import type { CliResult } from "./run-famos.ts";

/** process.exit called by the command (configOrExit on bad settings): the run ends there, with that code. */
class Exited extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * `famos <args>` run through the CLI's own main() in this process: what the command writes to
 * standard output and error, and the exit code main() gives the process (or the one it passed to
 * process.exit), as a real run reports them. A `famos` process costs the bundle's loading, about half
 * a second on the 2-core CI machine; this costs the command's own work. It reads `env` as the whole
 * environment (as a child given it would), and swaps process.env, the two streams' write, exit and
 * exitCode for the run: runs take turns, and nothing else of the test's process should write to
 * standard output or error meanwhile. The real process (the bundle, node's own exit) is what the
 * tests through cliWorkspace().run check; a file keeps those for its exit codes and refusals.
 */
export function famosInProcess(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const run = queue.then(() => runOnce(args, env));
  queue = run.catch(() => undefined);
  return run;
}

async function runOnce(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const saved = {
    env: process.env,
    exitCode: process.exitCode,
    exit: process.exit,
    out: process.stdout.write,
    err: process.stderr.write,
    errorListeners: process.stdout.listeners("error"),
  };
  let stdout = "";
  let stderr = "";
  let exited: { code: number; stderrLength: number } | null = null;
  const capture = (append: (text: string) => void) =>
    function write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      append(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      done?.();
      return true;
    };
  process.env = { ...env };
  process.exitCode = undefined;
  process.stdout.write = capture((text) => (stdout += text)) as typeof process.stdout.write;
  process.stderr.write = capture((text) => (stderr += text)) as typeof process.stderr.write;
  process.exit = ((code?: number) => {
    exited ??= { code: code ?? 0, stderrLength: stderr.length };
    throw new Exited(code ?? 0);
  }) as typeof process.exit;
  try {
    const code = await main(args);
    // After process.exit the process writes nothing more: main()'s report of the thrown Exited is not the command's.
    const ended = exited as { code: number; stderrLength: number } | null;
    return ended ? { code: ended.code, stdout, stderr: stderr.slice(0, ended.stderrLength) } : { code, stdout, stderr };
  } finally {
    process.env = saved.env;
    process.exitCode = saved.exitCode;
    process.exit = saved.exit;
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    for (const listener of process.stdout.listeners("error")) {
      if (!saved.errorListeners.includes(listener)) process.stdout.off("error", listener as (...a: unknown[]) => void);
    }
  }
}
