/**
 * `famos user import` at scale (issue 12): 100,000 rows with bcrypt hashes into a fresh SQLite
 * database through the real command line, timed from the outside; then the same file once more
 * with --resume after an import stopped half way (SIGKILL), which must end with every row taken.
 *
 *   node --import tsx bench/import-100k.ts [--rows 100000] [--postgres]
 *
 * The hashes are bcrypt-shaped ($2b$10$ + 53 characters of bcrypt's base64), as an export from
 * another system holds them: the import takes hashes as they are, so no hash is computed here.
 * Results are printed and written to bench/results/import-<start time>.md.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";

const BIN = fileURLToPath(new URL("../bin/famos.js", import.meta.url));
const args = process.argv.slice(2);
const rows = Number(args[args.indexOf("--rows") + 1] || 0) || 100_000;
const postgres = args.includes("--postgres");
const PG_SERVER = "postgres://postgres@127.0.0.1:5432/test";
const ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function bcryptShaped(): string {
  const bytes = randomBytes(53);
  let tail = "";
  for (const b of bytes) tail += ALPHABET[b % 64];
  return `$2b$10$${tail}`;
}

function writeCsv(path: string): void {
  const lines = ["login_id,full_name,partner_number,role,email,password_hash"];
  for (let i = 0; i < rows; i += 1) {
    const partner = String(1000 + (i % 400));
    const email = i % 3 === 0 ? "" : `user${i}@dealer${partner}.example`;
    lines.push(`user${i},"Person ${i}, Dealer",${partner},,${email},${bcryptShaped()}`);
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

interface Run {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function famos(argv: string[], env: Record<string, string>, killAfterMs?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, ...argv], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, code, stdout, stderr });
    });
  });
}

async function countUsers(url: string): Promise<number> {
  if (url.startsWith("sqlite:")) {
    const db = new Database(url.slice("sqlite:".length), { readonly: true });
    try {
      return (db.prepare("select count(*) as n from users").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: PG_SERVER });
  await client.connect();
  try {
    const schema = new URL(url).searchParams.get("schema");
    return Number((await client.query(`select count(*) as n from "${schema}".users`)).rows[0].n);
  } finally {
    await client.end();
  }
}

async function freshDatabase(dir: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!postgres) return { url: `sqlite:${join(dir, `${name}.db`)}`, drop: async () => undefined };
  const schema = `bench_import_${name}_${randomBytes(3).toString("hex")}`;
  const client = new pg.Client({ connectionString: PG_SERVER });
  await client.connect();
  await client.query(`create schema "${schema}"`);
  await client.end();
  return {
    url: `${PG_SERVER}?schema=${schema}`,
    async drop() {
      const c = new pg.Client({ connectionString: PG_SERVER });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), "famos-import-bench-"));
const started = new Date();
try {
  const csv = join(dir, "users.csv");
  const generated = process.hrtime.bigint();
  writeCsv(csv);
  process.stderr.write(`wrote ${rows} rows in ${(Number(process.hrtime.bigint() - generated) / 1e9).toFixed(1)} s\n`);
  const env = (url: string) => ({ FAMOS_DATABASE_URL: url, FAMOS_SECRET: "b".repeat(64), FAMOS_LOG_LEVEL: "warn" });

  // Compile the command line and create the schema first, so the timed run is the import alone.
  const full = await freshDatabase(dir, "full");
  await famos(["migrate"], env(full.url));
  const whole = await famos(["user", "import", csv], env(full.url));
  if (whole.code !== 0) throw new Error(`import failed (${whole.code}): ${whole.stderr.slice(0, 2000)}`);
  const wholeCount = await countUsers(full.url);
  await full.drop();

  const resumed = await freshDatabase(dir, "resume");
  await famos(["migrate"], env(resumed.url));
  const killed = await famos(["user", "import", csv], env(resumed.url), Math.max(1000, (whole.seconds * 1000) / 2));
  const afterKill = await countUsers(resumed.url);
  const resume = await famos(["user", "import", csv, "--resume"], env(resumed.url));
  if (resume.code !== 0) throw new Error(`resume failed (${resume.code}): ${resume.stderr.slice(0, 2000)}`);
  const resumeCount = await countUsers(resumed.url);
  await resumed.drop();

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const report = [
    `# famos user import, ${rows} bcrypt rows (${postgres ? "PostgreSQL" : "SQLite"})`,
    "",
    `${started.toISOString()} · ${machine}`,
    "",
    "| run | seconds | rows/s | users after |",
    "| --- | ---: | ---: | ---: |",
    `| whole file | ${whole.seconds.toFixed(1)} | ${Math.round(rows / whole.seconds)} | ${wholeCount} |`,
    `| killed half way (SIGKILL at ${(whole.seconds / 2).toFixed(1)} s) | ${killed.seconds.toFixed(1)} | – | ${afterKill} |`,
    `| --resume | ${resume.seconds.toFixed(1)} | ${Math.round((rows - afterKill) / resume.seconds)} (new rows) | ${resumeCount} |`,
    "",
    `Target: ≤ 60 s for 100,000 rows; whole file took ${((100 * whole.seconds) / 60).toFixed(0)}% of it (ratio ${(whole.seconds / 60).toFixed(2)}).`,
    `Whole import output: ${whole.stdout.trim()}`,
    `Resume output: ${resume.stdout.trim()}`,
    "",
  ].join("\n");
  process.stdout.write(report);
  const out = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `import-${started.toISOString().replace(/[:.]/g, "-").slice(0, 19)}Z${postgres ? "-postgres" : ""}.md`), report);
  if (wholeCount !== rows || resumeCount !== rows) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
