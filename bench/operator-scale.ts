/**
 * The operator's side at the size of a dealer network: 20,000 login IDs across 400 dealerships
 * (shared mailboxes: five login IDs per address), a year of audit trail (1,000,000 events), a year of
 * rollout waves and announcements (some moved and mailed again, some bounced hard), mails, codes,
 * sessions, login and address locks and undeliverable addresses. Seeded by SQL inside the database
 * (a recursive CTE on SQLite, generate_series on PostgreSQL), then each page's and command's work
 * is run through the functions the console and `famos` call, timed (median of --runs), with the
 * number of statements, the rows they handed to JavaScript, and the statements whose plan reads a
 * whole big table (EXPLAIN QUERY PLAN's SCAN on SQLite; a sequential scan on PostgreSQL).
 *
 *   node --import tsx bench/operator-scale.ts [--dialect sqlite|postgres|both] [--users 20000] [--audit 1000000] [--spray 0] [--runs 5]
 *
 * --spray N adds N login counters of login IDs no account has, one failure each and none locked: what
 * a password-spraying run leaves in throttles until the cleanup job removes them.
 *
 * PostgreSQL: a schema of its own on the test server (test/support/services.ts), dropped at the end.
 */
import { arch, cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { sql, type Kysely, type KyselyPlugin, type RootOperationNode } from "kysely";
import type { Deps } from "../src/app/deps.ts";
import { checkDatabase } from "../src/doctor/checks.ts";
import { announceRollout, forgetStaleAnnouncements } from "../src/rollout/announce.ts";
import { readPlan } from "../src/rollout/plan.ts";
import { rolloutProgress } from "../src/rollout/progress.ts";
import type { Database } from "../src/store/schema.ts";
import { listAddressLocks } from "../src/support/address-locks.ts";
import { needsAttention } from "../src/support/attention.ts";
import { auditPage, auditRecords } from "../src/support/audit-trail.ts";
import { searchUsers } from "../src/support/search.ts";
import { userOverview } from "../src/support/user-overview.ts";
import { otherEnabledHolders } from "../src/users/shared-address.ts";
import { findUserByLogin } from "../src/users/users.ts";
import { refreshLoginDigests } from "../src/users/login-digest.ts";
import type { Keys } from "../src/platform/keys.ts";
import { showUser } from "../src/cli/commands/user-show.ts";
import { openInstances, type TestDialect } from "../test/store/dialects.ts";
import { fullReads } from "../test/support/statement-plans.ts";

const { values: argv } = parseArgs({
  options: {
    dialect: { type: "string", default: "both" },
    users: { type: "string", default: "20000" },
    audit: { type: "string", default: "1000000" },
    spray: { type: "string", default: "0" },
    runs: { type: "string", default: "5" },
  },
});
const USERS = Number(argv.users);
const AUDIT = Number(argv.audit);
const RUNS = Number(argv.runs);
const SPRAY = Number(argv.spray);
const PARTNERS = 400;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 28, 14, 0, 0); // FixedClock's default
const YEAR_AGO = NOW - 365 * DAY;
const WHO = `Staff.${USERS > 4321 ? 4321 : 21}`; // (4321 / 400) % 20 = 10: enrolled
const BIG = ["users", "audit", "outbox", "codes", "flows", "sessions", "throttles", "rollout_users", "mail_addresses"];

/** `INSERT INTO table (cols) SELECT exprs FROM (0 .. n-1 as i)`, per dialect: i is a 64-bit integer on both. */
function series(dialect: TestDialect, n: number, table: string, columns: string, select: string): string {
  if (dialect === "postgres") return `INSERT INTO ${table} (${columns}) SELECT ${select} FROM generate_series(0::bigint, ${n - 1}) AS s(i)`;
  return `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1}) INSERT INTO ${table} (${columns}) SELECT ${select} FROM s`;
}

async function seed(db: Kysely<Database>, dialect: TestDialect, keys: Keys): Promise<void> {
  const run = (text: string) => sql.raw(text).execute(db);
  const p = `'P' || (i % ${PARTNERS})`;
  // Users: 70 % enrolled at a shared desk mailbox (five login IDs each), 15 % with an address waiting
  // for its code, 15 % not started; 5 % leavers.
  const address = `'desk' || (i % ${Math.floor(USERS / 5)}) || '@dealer' || (i % ${PARTNERS}) || '.example'`;
  await run(series(dialect, USERS, "users",
    "id, login_id, login_key, login_digest, full_name, partner_number, role, password_hash, otp_email, otp_email_confirmed_at, pending_email, last_sign_in_at, created_at, updated_at, disabled_at, password_temporary_until",
    `'u' || i, 'Staff.' || i, 'staff.' || i, '-' || i, 'Staff Member ' || i, ${p}, CASE WHEN i % 500 = 0 THEN 'support' ELSE 'user' END, 'x',
     CASE WHEN (i / ${PARTNERS}) % 20 < 14 THEN ${address} END, CASE WHEN (i / ${PARTNERS}) % 20 < 14 THEN ${YEAR_AGO} + i * 1000 END,
     CASE WHEN (i / ${PARTNERS}) % 20 BETWEEN 14 AND 16 THEN 'own' || i || '@dealer' || (i % ${PARTNERS}) || '.example' END,
     ${NOW} - (i % 90) * ${DAY}, ${YEAR_AGO}, ${YEAR_AGO}, CASE WHEN (i / ${PARTNERS}) % 20 = 19 THEN ${NOW} - (i % 30) * ${DAY} END, NULL`));
  // Each account's login ID digest (users.login_digest, migration 021; '-' above), as `famos serve` makes them.
  await refreshLoginDigests(db, keys);
  // A year of waves: one per dealership, a week apart, and the default.
  await run(series(dialect, PARTNERS, "rollout_plan", "partner_number, starts_at, updated_at, updated_by", `'P' || i, ${YEAR_AGO} + (i % 52) * 7 * ${DAY}, ${YEAR_AGO}, 'operator:bench'`));
  await run(`INSERT INTO rollout_plan (partner_number, starts_at, updated_at, updated_by) VALUES ('*', ${NOW + 30 * DAY}, ${YEAR_AGO}, 'operator:bench')`);
  // Everyone was announced (a contact address from the import), the not enrolled still marked.
  await run(series(dialect, USERS, "rollout_users", "user_id, contact_email, grace_used, announced_at",
    `'u' || i, 'contact' || i || '@dealer' || (i % ${PARTNERS}) || '.example', i % 3, ${YEAR_AGO} + (i % 52) * 7 * ${DAY} - 14 * ${DAY}`));
  // Announcements: one per user, a second for every third (a moved wave), 3 % of the latest bounced hard.
  const mail = "id, user_id, kind, recipient, subject, text_body, html_body, message_id, state, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at, bounced_at, bounce_kind, bounce_reason";
  const announced = `${YEAR_AGO} + (i % 52) * 7 * ${DAY} - 14 * ${DAY}`;
  await run(series(dialect, USERS, "outbox", mail,
    `'a1-' || i, 'u' || i, 'rollout.announcement', 'contact' || i || '@dealer' || (i % ${PARTNERS}) || '.example', 'Two-step sign-in is coming', 'text', '<p>html</p>', '<a1-' || i || '@bench>', 'sent', 1, ${announced}, NULL, NULL, ${announced}, ${announced} + 1000,
     CASE WHEN i % 3 <> 0 AND i % 33 = 1 THEN ${announced} + 60000 END, CASE WHEN i % 3 <> 0 AND i % 33 = 1 THEN 'hard' END, CASE WHEN i % 3 <> 0 AND i % 33 = 1 THEN '550 5.1.1 no such user' END`));
  await run(series(dialect, Math.floor(USERS / 3), "outbox", mail,
    `'a2-' || (i * 3), 'u' || (i * 3), 'rollout.announcement', 'contact' || (i * 3) || '@dealer' || ((i * 3) % ${PARTNERS}) || '.example', 'Two-step sign-in moved', 'text', '<p>html</p>', '<a2-' || i || '@bench>', 'sent', 1, ${announced} + ${DAY}, NULL, NULL, ${announced} + ${DAY}, ${announced} + ${DAY} + 1000,
     CASE WHEN i % 11 = 0 THEN ${announced} + ${DAY} + 60000 END, CASE WHEN i % 11 = 0 THEN 'hard' END, CASE WHEN i % 11 = 0 THEN '550 5.1.1 no such user' END`));
  // Code mails, flows and codes: 200,000 over the year.
  const CODES = USERS * 10;
  const at = `${YEAR_AGO} + i * ${Math.floor((365 * DAY) / CODES)}`;
  await run(series(dialect, CODES, "outbox", mail,
    `'c-' || i, 'u' || (i % ${USERS}), 'code', 'desk' || (i % ${Math.floor(USERS / 5)}) || '@dealer.example', 'Your code', 'text', '<p>html</p>', '<c-' || i || '@bench>', 'sent', 1, ${at}, NULL, NULL, ${at}, ${at} + 500, NULL, NULL, NULL`));
  await run(series(dialect, CODES, "flows", "id, user_id, kind, email, created_at, codes_sent, last_code_at, finished_at, return_to",
    `'f-' || i, 'u' || (i % ${USERS}), 'signin', 'desk@dealer.example', ${at}, 1, ${at}, ${at} + 30000, NULL`));
  await run(series(dialect, CODES, "codes", "id, flow_id, user_id, code_hash, email, outbox_id, created_at, expires_at, tries, consumed_at, voided_at, void_reason",
    `'k-' || i, 'f-' || i, 'u' || (i % ${USERS}), 'h' || i, 'desk@dealer.example', 'c-' || i, ${at}, ${at} + 600000, 0, ${at} + 30000, NULL, NULL`));
  await run(series(dialect, USERS * 3, "sessions", "token_hash, id, user_id, stage, flow_id, created_at, last_seen_at, expires_at, verified_at, ip, user_agent, ended_at, end_reason",
    `'t-' || i, 's-' || i, 'u' || (i % ${USERS}), 'full', NULL, ${NOW} - (i % 30) * ${DAY}, ${NOW} - (i % 30) * ${DAY}, ${NOW} + ${DAY} - (i % 30) * ${DAY}, ${NOW} - (i % 30) * ${DAY}, '192.0.2.1', 'ua', NULL, NULL`));
  // Locks: 2,000 login IDs with failures (a tenth locked), 600 addresses (a third locked).
  await run(series(dialect, 2_000, "throttles", "key, failures, locked_until, hard_locked, updated_at, window_started_at",
    `'password:id:staff.' || (i * 7), 1 + i % 6, CASE WHEN i % 10 = 0 THEN ${NOW} + 600000 ELSE 0 END, 0, ${NOW} - i * 1000, ${NOW} - i * 1000`));
  // Counted as the sign-in counts them: under each login ID's digest.
  await run(`UPDATE throttles SET key = 'password:id:' || (SELECT login_digest FROM users WHERE login_key = substr(throttles.key, 13)) WHERE key LIKE 'password:id:staff.%'`);
  await run(series(dialect, 600, "throttles", "key, failures, locked_until, hard_locked, updated_at, window_started_at",
    `'ip:198.51.' || (i / 250) || '.' || (i % 250), 1 + i % 30, CASE WHEN i % 3 = 0 THEN ${NOW} + 600000 ELSE 0 END, 0, ${NOW} - i * 1000, ${NOW} - i * 1000`));
  // A spraying run's leftovers: one wrong password each for login IDs no account has (digest-like keys).
  if (SPRAY > 0) {
    await run(series(dialect, SPRAY, "throttles", "key, failures, locked_until, hard_locked, updated_at, window_started_at",
      `'password:id:' || 'f0' || (i * 7919) || 'e5a1', 1, 0, 0, ${NOW} - (i % 900) * 1000, ${NOW} - (i % 900) * 1000`));
  }
  // Undeliverable addresses: 2,000 records, most of them nobody's any more.
  await run(series(dialect, 2_000, "mail_addresses", "address_key, undeliverable_at, undeliverable_reason, soft_bounces, last_soft_bounce_at, last_soft_reason, confirmed_at, updated_at",
    `CASE WHEN i % 10 = 0 THEN 'desk' || (i * 3) || '@dealer' || ((i * 3) % ${PARTNERS}) || '.example' ELSE 'gone' || i || '@old.example' END, ${NOW} - i * 60000, '550 5.1.1', 0, NULL, NULL, NULL, ${NOW} - i * 60000`));
  // A year of audit trail.
  const events = ["password.ok", "code.sent", "code.ok", "password.failed", "code.failed", "enrolment.confirmed", "signout", "rollout.announced"];
  const event = `CASE i % ${events.length} ${events.map((e, k) => `WHEN ${k} THEN '${e}'`).join(" ")} END`;
  await run(series(dialect, AUDIT, "audit", "time, event, actor, subject, ip, user_agent, detail",
    `${YEAR_AGO} + i * ${Math.floor((365 * DAY) / AUDIT)}, ${event}, 'staff.' || (i % ${USERS}), 'staff.' || (i % ${USERS}), CASE WHEN i > ${AUDIT - AUDIT / 12} THEN '192.0.2.' || (i % 250) END, CASE WHEN i > ${AUDIT - AUDIT / 12} THEN 'Mozilla/5.0' END, '{}'`));
  // As autovacuum leaves a table in service: statistics, and PostgreSQL's visibility map (index-only scans).
  await run(dialect === "postgres" ? "VACUUM ANALYZE" : "ANALYZE");
}

interface Measured {
  name: string;
  ms: number;
  statements: number;
  rows: number;
  scans: string[];
}

/** Times `work` (median of RUNS, after one warm run) and counts its statements, the rows they return, and the whole-table reads among them. */
async function measure(deps: Deps, store: { dialect: TestDialect }, name: string, work: (d: Deps) => Promise<unknown>): Promise<Measured> {
  await work(deps);
  const times: number[] = [];
  for (let r = 0; r < RUNS; r += 1) {
    const t0 = performance.now();
    await work(deps);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const nodes: RootOperationNode[] = [];
  let rows = 0;
  const plugin: KyselyPlugin = {
    transformQuery: ({ node }) => (nodes.push(node), node),
    transformResult: async ({ result }) => ((rows += result.rows.length), result),
  };
  await work({ ...deps, db: deps.db.withPlugin(plugin) });
  const scans = new Set<string>();
  for (const node of nodes) {
    if (node.kind !== "SelectQueryNode" && node.kind !== "UpdateQueryNode" && node.kind !== "DeleteQueryNode") continue;
    for (const s of await fullReads(currentStore!, node, BIG)) scans.add(store.dialect === "sqlite" ? s.split(" ").slice(0, 2).join(" ") : s);
  }
  return { name, ms: times[Math.floor(times.length / 2)]!, statements: nodes.length, rows, scans: [...scans] };
}

let currentStore: Parameters<typeof fullReads>[0] | null = null;

async function benchmark(dialect: TestDialect): Promise<Measured[]> {
  const { stores, deps: [deps], database } = await openInstances(dialect, 1, "operator_scale");
  const store = stores[0]!;
  currentStore = store;
  try {
    const t0 = performance.now();
    await seed(store.db, dialect, deps!.keys);
    process.stderr.write(`${dialect}: seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const support = { actor: "operator:bench", ip: null, userAgent: null };
    const someone = (await findUserByLogin(deps!.db, WHO))!;
    const plan = await readPlan(deps!.db);
    const moved = { ...plan, partners: plan.partners };
    const out: Measured[] = [];
    const m = (name: string, work: (d: Deps) => Promise<unknown>) => measure(deps!, store, name, work).then((r) => (out.push(r), process.stderr.write(`  ${name}: ${r.ms.toFixed(1)} ms\n`)));
    await m("console Needs attention", (d) => needsAttention(d));
    await m("console Find users 'staff 12' p1", (d) => searchUsers(d.db, dialect, "staff 12", 1));
    await m("console Disabled users p1", (d) => searchUsers(d.db, dialect, "", 1, { disabledOnly: true }));
    await m("console user page (overview)", (d) => userOverview(d, someone));
    await m("console audit p1", (d) => auditPage(d.db, {}, { page: 1 }));
    await m("console audit p2000", (d) => auditPage(d.db, {}, { page: 2000 }));
    // Page 2000 as its Older link reaches it (?before=<last row of page 1999>), and Older of the oldest row (past the end).
    const nth = async (offset: number) => Number((await deps!.db.selectFrom("audit").select("id").orderBy("time", "desc").orderBy("id", "desc").limit(1).offset(offset).executeTakeFirstOrThrow()).id);
    const endOf1999 = await nth(1999 * 50 - 1);
    const oldest = Number((await deps!.db.selectFrom("audit").select("id").orderBy("time", "asc").orderBy("id", "asc").limit(1).executeTakeFirstOrThrow()).id);
    await m("console audit p2000 by Older (?before=)", (d) => auditPage(d.db, {}, { before: endOf1999, page: 2000 }));
    await m("console audit p1999 by Newer (?after=)", (d) => auditPage(d.db, {}, { after: endOf1999, page: 1999 }));
    await m("console audit Older of the oldest (past end)", (d) => auditPage(d.db, {}, { before: oldest, page: 99_999 }));
    await m("console audit event=code.ok p1", (d) => auditPage(d.db, { event: "code.ok" }, { page: 1 }));
    await m(`console audit user=${WHO} p1`, (d) => auditPage(d.db, { user: WHO }, { page: 1 }));
    await m("console audit past end (p99999)", (d) => auditPage(d.db, { event: "signout" }, { page: 99_999 }));
    await m("console rollout progress / famos rollout status", (d) => rolloutProgress(d));
    await m("console address locks", (d) => listAddressLocks(d));
    await m("famos rollout announce --dry-run (bounced list)", (d) => announceRollout(d, { partner: null, dryRun: true, actor: support }));
    await m("famos rollout announce --partner P7 --dry-run", (d) => announceRollout(d, { partner: "P7", dryRun: true, actor: support }));
    await m("famos rollout plan (wave P7 moved: forgetStale, no write)", (d) =>
      d.db.transaction().execute(async (tx) => {
        const after = { ...moved, partners: new Map([...moved.partners].map(([k, v]) => [k, k === "P7" ? v + DAY : v])) };
        await forgetStaleAnnouncements({ ...d, db: tx }, plan, after, "P7");
        throw new Rollback();
      }).catch((e: unknown) => { if (!(e instanceof Rollback)) throw e; }));
    await m("famos audit --since 7 days", async (d) => { let n = 0; for await (const _ of auditRecords(d.db, { since: NOW - 7 * DAY }, "asc")) n += 1; return n; });
    await m(`famos user show ${WHO}`, (d) => showUser(d, WHO, {}, () => undefined));
    await m("sign-in: login lookup", (d) => findUserByLogin(d.db, WHO));
    await m("sign-in: shared address (otherEnabledHolders)", (d) => otherEnabledHolders(d, someone.otp_email!, someone.id));
    const t1 = performance.now();
    await checkDatabase(deps!.config);
    out.push({ name: "famos doctor (database checks)", ms: performance.now() - t1, statements: 0, rows: 0, scans: [] });
    return out;
  } finally {
    for (const s of stores) await s.close();
    await database.drop();
  }
}

class Rollback extends Error {}

const dialects: TestDialect[] = argv.dialect === "both" ? ["sqlite", "postgres"] : [argv.dialect as TestDialect];
const results = new Map<TestDialect, Measured[]>();
for (const dialect of dialects) results.set(dialect, await benchmark(dialect));
console.log(`# operator-scale ${new Date().toISOString()} — ${USERS} users, ${PARTNERS} partners, ${AUDIT} audit rows, ${SPRAY} sprayed counters, median of ${RUNS}`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"} (${arch()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);
for (const [dialect, rows] of results) {
  console.log(`\n## ${dialect}\n\n| page / command | ms | statements | rows to JS | whole-table reads |\n|---|---:|---:|---:|---|`);
  for (const r of rows) console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.statements} | ${r.rows} | ${r.scans.join(", ") || "—"} |`);
}
