/**
 * The application's own CPU per complete sign-in, in one process and without sockets: Fastify's
 * inject runs the five requests of bench/scenarios/famos.ts through every hook, route and query, the
 * mail goes over SMTP to a server in this process, and the password hashes run on the thread pool.
 * Nothing else competes with the event loop, so a `--cpu-prof` of this run is a clean picture of
 * where the application's time goes (node's wall-clock sampler counts time lost to other processes
 * as the code that was running; here there are none).
 *
 *   node --import tsx [--cpu-prof --cpu-prof-dir DIR] bench/app-cpu.ts [--flows 2000] [--warmup 500]
 *
 * `--returning`: each user signs in again from the same browser (its device cookie kept, its session
 * cookie dropped between flows), with the request limit on (FAMOS_RATE_LIMIT high enough never to
 * refuse), as staff at their own desk do; without it every flow is a new browser and the limit is off.
 *
 * `--statements`: each SQL statement's time, and the statements of one flow. `--pages` (with
 * `--flows 300` or so: the log is not checkpointed during the run): the pages a flow writes to
 * SQLite's write-ahead log, by table and index (each commit writes every page it changed), and the
 * commits (per flow, and how many of them touched each b-tree).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import SQLite from "better-sqlite3";
import { addUser, createTestApp } from "../test/support/app.ts";
import { FormClient } from "../test/support/client.ts";
import { signIn } from "../test/support/client.ts";

const { values: argv } = parseArgs({ options: { flows: { type: "string", default: "2000" }, warmup: { type: "string", default: "500" }, users: { type: "string", default: "64" }, statements: { type: "boolean", default: false }, pages: { type: "boolean", default: false }, returning: { type: "boolean", default: false }, postgres: { type: "boolean", default: false } } });

/** --pages: the application's own connection, found as it sets its journal mode (the test template's, made and closed before, is passed over). */
let appDatabase = null as SQLite.Database | null;
if (argv.pages) {
  const pragma = SQLite.prototype.pragma;
  SQLite.prototype.pragma = function (this: SQLite.Database, ...args: Parameters<typeof pragma>) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the point: keep the connection the application opened
    if (!appDatabase?.open) appDatabase = this;
    return pragma.apply(this, args);
  } as typeof pragma;
}

/**
 * --statements: time spent in each SQL text (better-sqlite3's statement methods, wrapped; on
 * PostgreSQL, pg's `Client.query`: counts and the trace, no times), and the commits: each COMMIT, and
 * each write run outside BEGIN … COMMIT (its own implicit commit), in the trace as `tx` and `auto`.
 */
const statementTimes = new Map<string, { n: number; ns: bigint }>();
let timing = false;
let trace: string[] | null = null;
const commitCount = { tx: 0, auto: 0 };
const isWrite = (sql: string) => /^\s*(insert|update|delete|with\b[\s\S]*\b(insert|update|delete))\b/i.test(sql);
/** One statement seen: `inTx` whether a transaction was open when it began. */
function noteStatement(sql: string, inTx: boolean, ns: bigint): void {
  const entry = statementTimes.get(sql) ?? { n: 0, ns: 0n };
  entry.n += 1;
  entry.ns += ns;
  statementTimes.set(sql, entry);
  const commit = /^\s*commit\b/i.test(sql);
  const auto = !inTx && isWrite(sql);
  if (commit) commitCount.tx += 1;
  if (auto) commitCount.auto += 1;
  const tag = commit ? "COMMIT" : auto ? "auto  " : inTx ? "tx    " : "      ";
  if (trace) trace.push(`${(Number(ns) / 1e3).toFixed(0).padStart(5)} µs ${tag} ${sql.replace(/\s+/g, " ").slice(0, 104)}`);
}
if (argv.statements && !argv.postgres) {
  const probe = new SQLite(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const name of ["run", "get", "all", "iterate"]) {
    const original = proto[name]!;
    proto[name] = function (this: { source: string; database: SQLite.Database }, ...args: unknown[]) {
      if (!timing) return original.apply(this, args);
      const inTx = this.database.inTransaction;
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        noteStatement(this.source, inTx, process.hrtime.bigint() - start);
      }
    };
  }
}
if (argv.statements && argv.postgres) {
  const pg = createRequire(import.meta.url)("pg") as { Client: { prototype: Record<string, (...args: unknown[]) => unknown> } };
  const original = pg.Client.prototype.query!;
  const open = new WeakSet<object>();
  pg.Client.prototype.query = function (this: object, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | null)?.text ?? "");
    if (timing && text) {
      noteStatement(text, open.has(this), 0n);
      if (/^\s*begin\b/i.test(text)) open.add(this);
      else if (/^\s*(commit|rollback)\b/i.test(text)) open.delete(this);
    }
    return original.apply(this, args);
  };
}
// Checkpoints on their own thread, as `famos serve` runs (otherwise every thousandth page of log
// makes one commit copy and sync the database file, a cost the server does not pay).
const t = await createTestApp({ ...(argv.postgres ? { database: "postgres" as const } : {}), env: { ...(argv.returning ? { FAMOS_RATE_LIMIT: "1000000000" } : {}), FAMOS_OTP_PER_HOUR: "0", FAMOS_OTP_RESEND_WAIT: "0s", FAMOS_LOCK_AFTER: "1000000" }, backgroundCheckpoints: !argv.pages && process.env.CHECKPOINTS !== "inline" });
const users: Awaited<ReturnType<typeof addUser>>[] = [];
for (let i = 0; i < Number(argv.users); i += 1) users.push(await addUser(t.deps, { loginId: `bench${i}`, email: `bench${i}@bench.test` }));

/** --returning: each user's own browser, kept from one flow to the next. */
const browsers = new Map<number, FormClient>();

async function run(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    const user = users[i % users.length]!;
    let client = new FormClient(t.app, "10.1.0.1");
    if (argv.returning) {
      client = browsers.get(i % users.length) ?? client;
      browsers.set(i % users.length, client);
      // Signed out by the browser's closing: only the device cookie is left.
      for (const name of [...client.cookies.keys()]) if (!name.includes("device")) client.cookies.delete(name);
    }
    await signIn(t, { user, client });
  }
}

/**
 * The main thread's own time on a CPU and waiting for one, in ns (Linux schedstat; null elsewhere):
 * without the password hashes of the thread pool, and not inflated by other processes on the machine
 * as the event loop's busy time is (it counts the time the thread waits to be scheduled).
 */
function mainThreadNs(): { run: number; wait: number } | null {
  if (!existsSync("/proc/thread-self/schedstat")) return null;
  const [run, wait] = readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(/\s+/).map(Number);
  return { run: run!, wait: wait! };
}

await run(Number(argv.warmup));
const flows = Number(argv.flows);
if (appDatabase) {
  appDatabase.pragma("wal_autocheckpoint = 0");
  appDatabase.pragma("wal_checkpoint(TRUNCATE)");
}
const main0 = mainThreadNs();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const elu0 = performance.eventLoopUtilization();
timing = true;
await run(flows);
timing = false;
const cpu = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
const wall = performance.now() - t0;
const main1 = mainThreadNs();
const mainThread = main0 && main1 ? `, main thread on CPU ${((main1.run - main0.run) / 1e6 / flows).toFixed(2)} ms/flow (waiting for one ${((main1.wait - main0.wait) / 1e6 / flows).toFixed(2)})` : "";
console.log(`${flows} flows in ${(wall / 1000).toFixed(1)} s: process CPU ${((cpu.user + cpu.system) / 1000 / flows).toFixed(2)} ms/flow (user ${(cpu.user / 1000 / flows).toFixed(2)}, system ${(cpu.system / 1000 / flows).toFixed(2)}), event loop busy ${((elu.active) / flows).toFixed(2)} ms/flow${mainThread}`);
if (appDatabase) logPages(appDatabase, flows);
if (argv.statements) {
  const timedCommits = { ...commitCount };
  trace = [];
  const user = users[0]!;
  const client = new FormClient(t.app, "10.1.0.1");
  const mark = await t.mailbox.mark();
  timing = true;
  for (const [name, step] of [["GET /login", () => client.get("/login")], ["POST /login", () => client.post("/login", { loginId: user.login_id, password: user.password })]] as const) {
    trace.push(`-- ${name}`);
    await step();
  }
  const code = await t.mailbox.code(user.otp_email!, mark);
  for (const [name, step] of [["GET /otp", () => client.get("/otp")], ["POST /otp", () => client.post("/otp", { code })], ["GET /profile", () => client.get("/profile")]] as const) {
    trace.push(`-- ${name}`);
    await step();
  }
  timing = false;
  console.log(trace.join("\n"));
  console.log(perRequest(trace));
  trace = null;
  const rows = [...statementTimes].sort((a, b) => Number(b[1].ns - a[1].ns));
  const total = rows.reduce((sum, [, e]) => sum + Number(e.ns), 0);
  console.log(`SQL: ${rows.reduce((sum, [, e]) => sum + e.n, 0) / flows} statements, ${(total / 1e6 / flows).toFixed(2)} ms per flow`);
  console.log(`commits: ${((timedCommits.tx + timedCommits.auto) / flows).toFixed(2)} per flow (${(timedCommits.tx / flows).toFixed(2)} COMMIT of a transaction, ${(timedCommits.auto / flows).toFixed(2)} writes outside one; the mail sender's included)`);
  if (argv.postgres) {
    await t.close();
    process.exit(0);
  }
  const plans = new SQLite(t.config.databaseUrl.slice("sqlite:".length), { readonly: true });
  for (const [sql, e] of rows.slice(0, 40)) console.log(`${(Number(e.ns) / 1e6 / flows).toFixed(3).padStart(7)} ms/flow ${(e.n / flows).toFixed(2).padStart(5)}× ${(Number(e.ns) / 1e3 / e.n).toFixed(1).padStart(7)} µs  ${sql.replace(/\s+/g, " ").slice(0, 170)}${/^\s*(select|update|delete|insert)/i.test(sql) ? `\n      plan: ${plans.prepare(`explain query plan ${sql}`).all(...Array((sql.match(/\?/g) ?? []).length).fill(null)).map((r) => (r as { detail: string }).detail).join(" | ")}` : ""}`);
  plans.close();
}
await t.close();

/** The trace's commits by request: COMMITs and writes outside a transaction (`auto`). */
function perRequest(lines: readonly string[]): string {
  const out: string[] = [];
  let name = "";
  let counts = { tx: 0, auto: 0, n: 0 };
  const flush = () => name && out.push(`${name}: ${counts.n} statements, ${counts.tx + counts.auto} commits (${counts.tx} COMMIT, ${counts.auto} auto)`);
  for (const line of lines) {
    if (line.startsWith("-- ")) {
      flush();
      name = line.slice(3);
      counts = { tx: 0, auto: 0, n: 0 };
      continue;
    }
    counts.n += 1;
    if (/ µs COMMIT /.test(line)) counts.tx += 1;
    else if (/ µs auto /.test(line)) counts.auto += 1;
  }
  flush();
  const all = out.map((l) => Number(/(\d+) commits/.exec(l)![1])).reduce((a, b) => a + b, 0);
  return `${out.join("\n")}\nthis flow: ${all} commits`;
}

/** Frames in the write-ahead log since the run began, by the table or index that owns each page. */
function logPages(database: SQLite.Database, flows: number): void {
  const log = readFileSync(`${database.name}-wal`);
  const pageSize = Number(database.pragma("page_size", { simple: true }));
  // A frame whose header's second word is non-zero ends a commit (it holds the database size).
  const commits: number[][] = [];
  let pages: number[] = [];
  for (let at = 32; at + 24 + pageSize <= log.length; at += 24 + pageSize) {
    pages.push(log.readUInt32BE(at));
    if (log.readUInt32BE(at + 4) !== 0) {
      commits.push(pages);
      pages = [];
    }
  }
  database.pragma("wal_checkpoint(PASSIVE)");
  const owner = new Map((database.prepare("select pageno, name from dbstat").all() as { pageno: number; name: string }[]).map((r) => [r.pageno, r.name]));
  const byOwner = new Map<string, { pages: number; commits: number }>();
  let frames = 0;
  for (const commit of commits) {
    const touched = new Set<string>();
    for (const page of commit) {
      const name = owner.get(page) ?? "free list";
      const entry = byOwner.get(name) ?? { pages: 0, commits: 0 };
      entry.pages += 1;
      if (!touched.has(name)) entry.commits += 1;
      touched.add(name);
      byOwner.set(name, entry);
      frames += 1;
    }
  }
  console.log(`write-ahead log: ${(frames / flows).toFixed(1)} pages per flow (${((frames * pageSize) / 1024 / flows).toFixed(0)} KiB) in ${(commits.length / flows).toFixed(2)} commits`);
  console.log("  pages  commits  b-tree");
  for (const [name, n] of [...byOwner].sort((a, b) => b[1].pages - a[1].pages)) console.log(`${(n.pages / flows).toFixed(2).padStart(7)}  ${(n.commits / flows).toFixed(2).padStart(7)}  ${name}`);
  // The commits by the b-trees they wrote (the reservations, each request's transaction, the sender's
  // "sent"): how many of each kind per flow and the frames each writes.
  const kinds = new Map<string, { commits: number; pages: number }>();
  for (const commit of commits) {
    const key = [...new Set(commit.map((page) => owner.get(page) ?? "free list"))].sort().join(" ");
    const entry = kinds.get(key) ?? { commits: 0, pages: 0 };
    entry.commits += 1;
    entry.pages += commit.length;
    kinds.set(key, entry);
  }
  console.log("commits  pages each  b-trees written");
  for (const [key, n] of [...kinds].sort((a, b) => b[1].commits - a[1].commits).slice(0, 12)) console.log(`${(n.commits / flows).toFixed(2).padStart(7)}  ${(n.pages / n.commits).toFixed(1).padStart(10)}  ${key}`);
}
