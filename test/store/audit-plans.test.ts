import { TEST_KEYS } from "../support/login-counter.ts";
import { disableInForce } from "../../src/account/disable.ts";
import { sql, type RootOperationNode } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personalStrings } from "../../src/account/erase-traces.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { expireAudit, pseudonymiseAudit, scrubAudit } from "../../src/audit/rewrite.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo, migrateToLatest } from "../../src/store/migrate.ts";
import { auditPage, auditRecords } from "../../src/support/audit-trail.ts";
import { createUser, type User } from "../../src/users/users.ts";
import { captureStatements, fullReads, planText } from "../support/statement-plans.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "./dialects.ts";

const ROWS = 3_000;

/**
 * Issue 17: every b-tree of the audit table costs a page of SQLite's log in each commit that writes an
 * event (two per sign-in). Its indexes are exactly those its readers need, and each reader of the
 * console, the CSV export, `famos audit`, the user overview, the rollout's figures, erasure and the
 * retention job reaches its rows through one of them on a trail of many people's events: removing an
 * index one of them needs turns it into a read of the whole trail, and fails here.
 */
describe.each(DIALECTS)("the audit trail's readers and its indexes, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  let user: User;
  const tag = `ap${Date.now().toString(36)}${dialect}`;
  const login = `Plan.User-${tag}`;

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `audit_plans_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    user = (await createUser(store.db, TEST_KEYS, cryptoRandom, 1_000, { loginId: login, fullName: "Plan", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: `plan-${tag}@dealer.example` }))!;
    const events = ["password.ok", "code.sent", "code.ok", "password.failed", "enrolment.confirmed"];
    const rows = Array.from({ length: ROWS }, (_, i) => {
      const who = i % 500 === 0 ? user.login_key : `someone-${i % 700}-${tag}`;
      return { time: 10_000 + i, event: events[i % events.length]!, actor: who, subject: who, ip: "192.0.2.1", user_agent: "ua", detail: "{}" };
    });
    for (let i = 0; i < rows.length; i += 500) await store.db.insertInto("audit").values(rows.slice(i, i + 500)).execute();
    if (dialect === "postgres") await sql`analyze audit`.execute(store.db);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  /** The statements `work` runs, and the ones among them that read the whole audit table. */
  async function scansOf(work: (db: Store["db"]) => Promise<unknown>): Promise<string[]> {
    const { plugin, nodes } = captureStatements();
    await work(store.db.withPlugin(plugin));
    expect(nodes.length).toBeGreaterThan(0);
    return (await Promise.all(nodes.map((node) => fullReads(store, node, ["audit"])))).flat();
  }

  /**
   * The WHERE of the pseudonymise function's second pass (an address in the pseudonym's events), as
   * the database holds it, its arguments written in: the function's statements are not Kysely's.
   */
  async function secondPass(pseudonym: string): Promise<string> {
    const source = dialect === "sqlite"
      ? (await sql<{ def: string }>`select sql as def from sqlite_master where type = 'trigger' and name = 'famos_audit_pseudonymise'`.execute(store.db)).rows[0]!.def
      : (await sql<{ def: string }>`select pg_get_functiondef(p.oid) as def from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.proname = 'famos_audit_pseudonymise' and n.nspname = current_schema()`.execute(store.db)).rows[0]!.def;
    const where = /UPDATE audit SET detail = replace\(detail, (?:NEW\.)?email, (?:NEW\.)?pseudonym\)\s+WHERE ([^;]+);/.exec(source)?.[1];
    expect(where).toBeDefined();
    return where!.replace(/(?:NEW\.)?\bemail\b/g, "'a@dealer.example'").replace(/(?:NEW\.)?\bpseudonym\b/g, `'${pseudonym}'`);
  }

  async function auditIndexes(): Promise<string[]> {
    const rows = dialect === "sqlite"
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'audit' order by name`.execute(store.db)).rows
      : (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'audit' and schemaname = current_schema() order by indexname`.execute(store.db)).rows;
    return rows.map((r) => r.name).filter((name) => name !== "audit_pkey");
  }

  it("has one index per way the trail is read, and no more", async () => {
    expect(await auditIndexes()).toEqual(["audit_actor_key", "audit_event_time", "audit_subject_key_time", "audit_time", "audit_unscrubbed"]);
  });

  it("reads one person's events through an index: the user overview, the console and CSV, erasure", async () => {
    expect(await scansOf((db) => queryAudit(db, { subject: login, limit: 20 }))).toEqual([]);
    expect(await scansOf((db) => queryAudit(db, { subject: login, event: "password.ok" }))).toEqual([]);
    expect(await scansOf((db) => auditPage(db, { user: login }, { page: 1 }))).toEqual([]);
    expect(await scansOf((db) => auditPage(db, { user: login, event: "password.ok", since: 10_000, until: 20_000 }, { page: 1 }))).toEqual([]);
    expect(await scansOf(async (db) => { for await (const _ of auditRecords(db, { user: login }, "asc", 2)) void _; })).toEqual([]);
    expect(await scansOf((db) => personalStrings(db, user))).toEqual([]);
    // The console's page after a disable reads what it ended from the disable's own event.
    expect(await scansOf((db) => disableInForce(db, { login_id: login, disabled_at: 10_000, sync_disabled_partner: null }))).toEqual([]);
    // And its look for a person's keep written after a sync's disable (by id: the host clock may have been set back).
    expect(await scansOf((db) => queryAudit(db, { subject: login, event: "user.disabled", afterId: 5, limit: 1 }))).toEqual([]);
    // A login ID with capitals beyond ASCII is compared in each form it takes (keyForms, an IN list), still through the index.
    expect(await scansOf((db) => queryAudit(db, { subject: "ÄÖÜ.Plan-Ñandú", limit: 20 }))).toEqual([]);
    expect(await scansOf((db) => auditPage(db, { user: "ÄÖÜ.Plan-Ñandú" }, { page: 1 }))).toEqual([]);
  });

  it("reads one event's rows through an index: the console's event filter, the rollout's enrolments per day", async () => {
    // A page of one event newest first may walk audit_time and stop at the page's end (PostgreSQL's choice here) or take audit_event_time.
    const { plugin, nodes } = captureStatements();
    await auditPage(store.db.withPlugin(plugin), { event: "enrolment.confirmed" }, { page: 1 });
    for (const node of nodes) expect(await planText(store, node)).toMatch(/audit_event_time|audit_time/);
    const rollout = store.db.selectFrom("audit").select("time").where("event", "=", "enrolment.confirmed").where("time", ">", 11_000).where("time", "<=", 12_000);
    expect(await fullReads(store, rollout.toOperationNode(), ["audit"])).toEqual([]);
    expect(await planText(store, rollout.toOperationNode())).toMatch(/audit_event_time|audit_time/);
  });

  it("pages the whole trail and ranges of time in time order through audit_time", async () => {
    const newest = store.db.selectFrom("audit").selectAll().orderBy("time", "desc").orderBy("id", "desc").limit(51);
    const ranged = store.db.selectFrom("audit").selectAll().where("time", ">=", 10_500).where("time", "<", 10_600).orderBy("time", "asc").orderBy("id", "asc").limit(500);
    for (const query of [newest, ranged]) {
      const plan = await planText(store, query.toOperationNode());
      expect(plan).toContain("audit_time");
      expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    }
  });

  it("erases, expires and scrubs through an index: the functions of migration 003 and their latest forms", async () => {
    const pseudonym = `erased-${tag.slice(-8)}`;
    const { plugin, nodes } = captureStatements();
    await store.db.transaction().execute(async (tx) => {
      expect(await pseudonymiseAudit(tx.withPlugin(plugin), store.dialect, login, pseudonym, [`plan-${tag}@dealer.example`])).toBe(6);
    });
    expect((await Promise.all(nodes.map((node) => fullReads(store, node, ["audit"])))).flat()).toEqual([]);
    expect(await queryAudit(store.db, { subject: pseudonym })).toHaveLength(6);
    // The statements inside famos_audit_pseudonymise (PostgreSQL) and its trigger (SQLite), as the latest migration defines them.
    const bodies: RootOperationNode[] = [
      sql`update audit set ip = null where lower(trim(subject)) = lower(${login}) or lower(trim(actor)) = lower(${login})`.compile(store.db).query,
      sql`select id from audit where ${sql.raw(await secondPass(pseudonym))}`.compile(store.db).query,
      // Expiry's and the scrub's batches (the rows themselves are then found by id, their primary key).
      sql`select id from audit where time < ${10_100} order by time limit ${50}`.compile(store.db).query,
      sql`select id from audit where (ip is not null or user_agent is not null) and time < ${10_100} order by time limit ${50}`.compile(store.db).query,
    ];
    expect((await Promise.all(bodies.map((node) => fullReads(store, node, ["audit"])))).flat()).toEqual([]);
    if (dialect === "sqlite") {
      // SQLite counts each batch before the trigger takes it (audit/rewrite.ts); PostgreSQL's functions are the bodies above.
      expect(await scansOf((db) => scrubAudit(db, store.dialect, 10_100, 50))).toEqual([]);
      expect(await scansOf((db) => expireAudit(db, store.dialect, 10_050, 50))).toEqual([]);
    } else {
      expect(await scrubAudit(store.db, store.dialect, 10_100, 50)).toBe(50);
      expect(await expireAudit(store.db, store.dialect, 10_050, 50)).toBe(50);
    }
  });

  it("migrates down to 015 with its two subject indexes and its erasure, and up again", async () => {
    await migrateTo(store, "015-audit-person-indexes");
    expect(await auditIndexes()).toEqual(["audit_actor_key", "audit_event_time", "audit_subject", "audit_subject_key", "audit_time", "audit_unscrubbed"]);
    expect(await secondPass("erased-abcdefgh")).not.toMatch(/lower/);
    // Up again through 019, whose rewrite of login IDs no account has needs the server's keys.
    await migrateToLatest(store, TEST_KEYS);
    expect(await auditIndexes()).toEqual(["audit_actor_key", "audit_event_time", "audit_subject_key_time", "audit_time", "audit_unscrubbed"]);
    expect(await secondPass("erased-abcdefgh")).toMatch(/lower\(trim\(subject\)\) = lower\('erased-abcdefgh'\) AND subject = 'erased-abcdefgh'/);
  });
});
