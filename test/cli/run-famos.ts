import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_SECRET } from "../support/app.ts";

const BIN = fileURLToPath(new URL("../../bin/famos.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let built = false;
/**
 * The launcher builds dist/ from changed sources in development mode only; a test that runs it with
 * NODE_ENV=production must not run an older build, so the first run of each test file brings dist/
 * up to date the way a developer's `npm start` would.
 */
function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [BIN, "--help"], { env: { ...process.env, NODE_ENV: "development" }, stdio: "ignore" });
  built = true;
}

/** A scratch directory with its own SQLite database, for a series of real `famos` runs. */
export interface CliWorkspace {
  dir: string;
  databaseUrl: string;
  run(args: string[], options?: { stdin?: string; env?: Record<string, string> }): Promise<CliResult>;
  remove(): void;
}

export function cliWorkspace(): CliWorkspace {
  const dir = mkdtempSync(join(tmpdir(), "famos-cli-"));
  const databaseUrl = `sqlite:${join(dir, "famos.db")}`;
  // Only the test's own FAMOS_ variables reach the child, whatever the shell running the tests has set.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FAMOS_")));
  return {
    dir,
    databaseUrl,
    run(args, options = {}) {
      ensureBuilt();
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: dir,
          env: { ...base, FAMOS_DATABASE_URL: databaseUrl, FAMOS_SECRET: TEST_SECRET, FAMOS_LOG_LEVEL: "warn", ...options.env },
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
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
