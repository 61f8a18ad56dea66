/**
 * Migration 032's question (which lookups by code expiry or by address read a whole growing table),
 * answered at a realistic size: 20,000 users and 200,000 codes (100,000 flows), on SQLite and on
 * PostgreSQL. For each statement: the plan, and the median time of `--runs` runs, without and with
 * the index migration 032 adds (codes by lower(email)); then the ratio.
 *
 *   node --import tsx bench/code-address-plans.ts [--users 20000] [--codes 200000] [--runs 50] [--dialect sqlite|postgres|both]
 *
 * The statements are the product's (their WHERE clauses as written in the files named), as selects.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CompiledQuery, sql } from "kysely";
import { openStore, type Store } from "../src/store/database.ts";
import { migrateToLatest } from "../src/store/migrate.ts";
import { otherHoldersQuery } from "../src/users/shared-address.ts";
import { up as addIndex032 } from "../src/store/migrations/032-code-address-index.ts";
import { postgresTestUrl } from "../test/support/services.ts";

const { values: argv } = parseArgs({
  options: {
    users: { type: "string", default: "20000" },
    codes: { type: "string", default: "200000" },
    runs: { type: "string", default: "50" },
    dialect: { type: "string", default: "both" },
  },
});
const USERS = Number(argv.users);
const CODES = Number(argv.codes);
const RUNS = Number(argv.runs);
const NOW = 1_800_000_000_000;
const DAY = 86_400_000;

/** 20,000 users (every tenth sharing its neighbour's mailbox), flows of two codes each over a week. */
async function seed(store: Store): Promise<void> {
  const pg = store.dialect === "postgres";
  const series = (n: number) => (pg ? sql`select g as i from generate_series(0, ${sql.lit(n - 1)}) g` : sql`with recursive s(i) as (select 0 union all select i + 1 from s where i < ${sql.lit(n - 1)}) select i from s`);
  const text = (e: string) => (pg ? sql.raw(`(${e})::text`) : sql.raw(`cast(${e} as text)`));
  await sql`insert into users (id, login_id, login_key, full_name, partner_number, password_hash, created_at, updated_at, otp_email)
    select 'u' || ${text("i")}, 'User' || ${text("i")}, 'user' || ${text("i")}, 'User ' || ${text("i")}, 'P' || ${text("i % 200")}, 'x', 0, 0,
      'User' || ${text("i - (case when i % 10 = 1 then 1 else 0 end)")} || '@Dealer' || ${text("i % 200")} || '.example'
    from (${series(USERS)}) s`.execute(store.db);
  const flows = CODES / 2;
  await sql`insert into flows (id, user_id, kind, email, created_at)
    select 'f' || ${text("i")}, 'u' || ${text(`i % ${USERS}`)}, 'signin', 'user' || ${text(`i % ${USERS}`)} || '@dealer' || ${text(`i % ${USERS} % 200`)} || '.example',
      ${sql.lit(NOW - 7 * DAY)} + i * ${sql.lit(Math.floor((7 * DAY) / flows))}
    from (${series(flows)}) s`.execute(store.db);
  await sql`insert into codes (id, flow_id, user_id, code_hash, email, created_at, expires_at, consumed_at)
    select 'c' || ${text("i")}, 'f' || ${text("i / 2")}, 'u' || ${text(`(i / 2) % ${USERS}`)}, 'h', 'user' || ${text(`(i / 2) % ${USERS}`)} || '@dealer' || ${text(`(i / 2) % ${USERS} % 200`)} || '.example',
      ${sql.lit(NOW - 7 * DAY)} + (i / 2) * ${sql.lit(Math.floor((7 * DAY) / flows))} + (i % 2) * 60000,
      ${sql.lit(NOW - 7 * DAY + 600_000)} + (i / 2) * ${sql.lit(Math.floor((7 * DAY) / flows))} + (i % 2) * 60000,
      case when i % 2 = 1 then ${sql.lit(NOW - 7 * DAY)} + (i / 2) * ${sql.lit(Math.floor((7 * DAY) / flows))} + 90000 else null end
    from (${series(CODES)}) s`.execute(store.db);
  await sql.raw(pg ? "analyze" : "analyze").execute(store.db);
}

type Statement = { name: string; where: string; query: (store: Store) => CompiledQuery };
const address = "user1234@dealer34.example";
const since = NOW - 2 * DAY;
const compiled = (store: Store, text: string, parameters: unknown[]) => CompiledQuery.raw(store.dialect === "postgres" ? text.replace(/\?/g, (() => { let n = 0; return () => `$${++n}`; })()) : text, parameters);
const STATEMENTS: Statement[] = [
  {
    name: "bounce: a code to this address confirmed since the message",
    where: "src/bounce/record-bounce.ts recordBounce",
    query: (store) => compiled(store, "select codes.id from codes where codes.expires_at > ? and codes.consumed_at >= ? and lower(codes.email) = ?", [since, since, address]),
  },
  {
    name: "forward report: a counted code to this address",
    where: "src/bounce/forward-reports.ts",
    query: (store) =>
      compiled(store, "select codes.id from codes inner join outbox as counted on counted.id = codes.outbox_id where codes.expires_at > ? and codes.created_at < ? and lower(codes.email) = ? and counted.id <> ? and counted.forward_counted_at is not null", [since, since + 600_000, address, "o1"]),
  },
  {
    name: "OTP capture: other enabled holders of the address",
    where: "src/users/shared-address.ts otherHoldersQuery",
    query: (store) => store.db.getExecutor().compileQuery(otherHoldersQuery(store.db, address, "u1234").toOperationNode(), { queryId: "q" } as never),
  },
  {
    name: "retention: the codes of a batch of old flows",
    where: "src/retention/cleanup.ts",
    query: (store) => compiled(store, "select count(*) from codes where flow_id in (?, ?, ?, ?)", ["f1", "f2", "f3", "f4"]),
  },
];

async function plan(store: Store, query: CompiledQuery): Promise<string> {
  const prefix = store.dialect === "postgres" ? "explain " : "explain query plan ";
  const rows = (await store.db.executeQuery<Record<string, string>>(CompiledQuery.raw(prefix + query.sql, [...query.parameters]))).rows;
  return rows.map((r) => r.detail ?? r["QUERY PLAN"]).join(" | ");
}

async function medianMs(store: Store, query: CompiledQuery): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    await store.db.executeQuery(query);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function measure(store: Store): Promise<void> {
  await seed(store);
  const before = new Map<string, { plan: string; ms: number }>();
  for (const s of STATEMENTS) before.set(s.name, { plan: await plan(store, s.query(store)), ms: await medianMs(store, s.query(store)) });
  await addIndex032(store.db);
  await sql.raw("analyze").execute(store.db);
  console.log(`\n${store.dialect}: ${USERS} users, ${CODES} codes, median of ${RUNS} runs`);
  for (const s of STATEMENTS) {
    const was = before.get(s.name)!;
    const now = { plan: await plan(store, s.query(store)), ms: await medianMs(store, s.query(store)) };
    console.log(`- ${s.name} (${s.where})\n    before ${was.ms.toFixed(3)} ms: ${was.plan}\n    after  ${now.ms.toFixed(3)} ms: ${now.plan}\n    ratio before/after ${(was.ms / now.ms).toFixed(1)}`);
  }
}

/** A database at the latest migration but without 032's index (measure() adds it after the "before" figures). */
async function measureOn(url: string, drop: () => Promise<void> | void): Promise<void> {
  const store = openStore(url);
  try {
    await migrateToLatest(store);
    await sql`drop index if exists codes_email_key`.execute(store.db);
    await measure(store);
  } finally {
    await store.close();
    await drop();
  }
}

if (argv.dialect !== "postgres") {
  const dir = mkdtempSync(join(tmpdir(), "famos-plans-"));
  await measureOn(`sqlite:${join(dir, "famos.db")}`, () => rmSync(dir, { recursive: true, force: true }));
}
if (argv.dialect !== "sqlite") {
  const schema = await postgresTestUrl("bench_code_plans");
  await measureOn(schema.url, () => schema.drop());
}
