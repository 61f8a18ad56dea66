import { isDeepStrictEqual } from "node:util";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counterKey } from "../../src/regulation/counter-key.ts";
import type { Database } from "../../src/store/schema.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";
import { databaseTables, snapshot, snapshotTables, TABLES_LEFT_OUT } from "./snapshot.ts";

type Row = Record<string, string | number | null>;

/**
 * Two rows a table, every column set in the first (the one changed); references point at the second,
 * or (a table keyed by its user) at a bystander user, never at a row the tests below remove.
 */
function fixtureRows(n: 0 | 1 | 2): Record<string, Row> {
  const at = 1_700_000_000_000 + n;
  return {
    users: { id: `u${n}`, login_id: `login${n}`, login_key: `key${n}`, login_digest: `digest${n}`, full_name: `Name ${n}`, partner_number: `p${n}`, role: "user", password_hash: `hash${n}`, otp_email: `a${n}@dealer.example`, otp_email_confirmed_at: at, pending_email: `b${n}@dealer.example`, strong_factor_at: at, last_sign_in_at: at, created_at: at, updated_at: at, disabled_at: at, sync_disabled_partner: `s${n}`, imported_hash_digest: `i${n}`, password_temporary_until: at, locale: "de", time_zone: "Europe/Berlin" },
    flows: { id: `f${n}`, user_id: "u1", kind: "signin", email: `a${n}@dealer.example`, created_at: at, codes_sent: 1, last_code_at: at, finished_at: at, return_to: "/profile" },
    outbox: { id: `o${n}`, user_id: "u1", kind: "otp", recipient: `a${n}@dealer.example`, subject: `Subject ${n}`, text_body: "t", html_body: "h", message_id: `<m${n}@famos.test>`, state: "queued", attempts: 0, next_attempt_at: at, lease_until: at, last_error: "e", last_fault: "f", created_at: at, sent_at: at, bounced_at: at, bounce_kind: "soft", bounce_reason: "r", forward_counted_at: at },
    codes: { id: `c${n}`, flow_id: "f1", user_id: "u1", code_hash: `ch${n}`, email: `a${n}@dealer.example`, outbox_id: "o1", created_at: at, expires_at: at, tries: 1, consumed_at: at, voided_at: at, void_reason: "v" },
    sessions: { token_hash: `th${n}`, id: `s${n}`, user_id: "u1", stage: "full", flow_id: "f1", created_at: at, last_seen_at: at, expires_at: at, verified_at: at, stepped_up_at: at, ip: "192.0.2.1", user_agent: "ua", ended_at: at, end_reason: "r" },
    throttles: { key: `login:${n}`, failures: 1, locked_until: at, hard_locked: 0, updated_at: at, window_started_at: at },
    audit: { time: at, event: `event.${n}`, actor: "a", subject: "s", ip: "192.0.2.1", user_agent: "ua", detail: `{"n":${n}}` },
    notices: { id: `n${n}`, title: "T", body: "B", created_at: at, updated_at: at, ended_at: at, created_by: "u1" },
    devices: { id: `d${n}`, login_key: `key${n}`, created_at: at, last_used_at: at, revoked_at: at },
    job_leases: { name: `job${n}`, holder: `holder${n}`, lease_until: at },
    key_fingerprints: { purpose: `purpose${n}`, fingerprint: `fingerprint${n}` },
    rollout_plan: { partner_number: `p${n}`, starts_at: at, updated_at: at, updated_by: "u1" },
    rollout_users: { user_id: `v${n}`, contact_email: `c${n}@dealer.example`, grace_used: 1, announced_at: at },
    mail_addresses: { address_key: `a${n}@dealer.example`, undeliverable_at: at, undeliverable_reason: "gone", soft_bounces: 1, last_soft_bounce_at: at, last_soft_reason: "full", mailbox_soft_bounces: 1, mailbox_soft_since: at, forward_bounces: 1, confirmed_at: at, updated_at: at },
    forward_reports: { outbox_id: "o1", report: `report${n}` },
    passkeys: { id: `k${n}`, user_id: "u1", credential_id: `credential${n}`, public_key: `public${n}`, sign_count: 1, transports: "usb", device_type: "singleDevice", backed_up: 0, name: `Key ${n}`, created_at: at, last_used_at: at },
    authenticator_apps: { user_id: `v${n}`, secret: `secret${n}`, created_at: at, confirmed_at: at, last_step: 1, last_used_at: at, setup_session_id: "s1" },
    recovery_codes: { id: `r${n}`, user_id: "u1", code_hash: `rh${n}`, created_at: at, used_at: at },
    passkey_challenges: { challenge_hash: `ph${n}`, session_id: "s1", purpose: "register", created_at: at, expires_at: at, used_at: at },
    // SQLite's alone: the switch its audit triggers turn on and off again within their own statement.
    audit_gate: { open: 10 * (n + 1) },
  };
}

/** Users that rows keyed by their user belong to (rollout_users, authenticator_apps); v3 is a row's other value. */
const BYSTANDERS = ["v0", "v1", "v2", "v3"];

/** The column that finds a row (audit's id is the database's own). */
const KEY: Record<string, string> = {
  users: "id", flows: "id", outbox: "id", codes: "id", sessions: "token_hash", throttles: "key", audit: "detail", notices: "id", devices: "id", job_leases: "name",
  key_fingerprints: "purpose", rollout_plan: "partner_number", rollout_users: "user_id", mail_addresses: "address_key", forward_reports: "report", passkeys: "id",
  authenticator_apps: "user_id", recovery_codes: "id", passkey_challenges: "challenge_hash", audit_gate: "open",
};
/** What snapshot keeps of the outbox: what was queued, not what the mail sender changes in the background. */
const QUEUED = ["id", "kind", "recipient", "subject"];

/** Another value a column may hold: references and enumerations to another allowed one, else one more or an "x" more. */
const OTHER: Record<string, string> = { u1: "u0", v0: "v3", f1: "f0", o1: "o0", s1: "s0", user: "admin", full: "otp", signin: "enrol", queued: "sent", soft: "hard", register: "signin" };
function changed(value: string | number | null): string | number {
  return typeof value === "number" ? value + 1 : (OTHER[value!] ?? `${value}x`);
}

/** A value as it is written inside a row's JSON text. */
function shown(value: string | number | null): string {
  return JSON.stringify(String(value)).slice(1, -1);
}

/**
 * What a failed `expect(after).toEqual(before)` shows of two snapshots (its diff: the lines only in one
 * of them, a table's rows added and removed), or null when they are equal.
 */
function mismatch(after: Record<string, string>, before: Record<string, string>): string | null {
  if (isDeepStrictEqual(after, before)) return null;
  const lines = (text: string | undefined) => new Set((text ?? "").split("\n"));
  const differ: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const [was, is] = [lines(before[table]), lines(after[table])];
    for (const line of was) if (!is.has(line)) differ.push(`- ${table}: ${line}`);
    for (const line of is) if (!was.has(line)) differ.push(`+ ${table}: ${line}`);
  }
  return differ.join("\n");
}

/**
 * snapshot (snapshot.ts) is what "stores nothing" is checked with, in properties, input and other
 * security tests: it must read every table the database has but those it leaves out with a reason, see
 * a change of any column of any row of each, an added row and a removed one, on both databases, and
 * name in its failure what changed.
 */
describe.each(DIALECTS)("snapshot sees every change (%s)", (dialect) => {
  let instances: Awaited<ReturnType<typeof openInstances>>;
  let db: Kysely<Database>;
  /** The tables of the fixture this database has (audit_gate is SQLite's), parents first. */
  let ORDER: string[];
  const tables = (): Kysely<Record<string, Row>> => db as unknown as Kysely<Record<string, Row>>;
  beforeAll(async () => {
    instances = await openInstances(dialect, 1, "snapshot");
    db = instances.deps[0]!.db;
    // This database's own append-only guard is lifted, so a test can change the trail as a fault would.
    if (dialect === "postgres") await sql`ALTER TABLE audit DISABLE TRIGGER USER`.execute(db);
    else for (const trigger of ["audit_no_update", "audit_no_delete"]) await sql`DROP TRIGGER ${sql.ref(trigger)}`.execute(db);
    const present = new Set(await databaseTables(db));
    ORDER = Object.keys(fixtureRows(0)).filter((table) => present.has(table));
    // Only the fixture's rows (a migration's own, such as the retention job's lease, are taken away).
    for (const table of [...ORDER].reverse()) await tables().deleteFrom(table).execute();
    for (const id of BYSTANDERS) await tables().insertInto("users").values({ ...fixtureRows(1).users, id, login_id: id, login_key: id, login_digest: id }).execute();
    for (const n of [1, 0] as const) for (const table of ORDER) await tables().insertInto(table).values(fixtureRows(n)[table]!).execute();
  });
  afterAll(async () => instances.close());

  it("reads every table the database has but those it leaves out, each with rows here to show it sees their changes", async () => {
    const all = await databaseTables(db);
    // A table a migration adds is read at once; this fails until the fixture above has rows for it.
    expect(Object.keys(await snapshot(db)).sort()).toEqual(await snapshotTables(db));
    expect(await snapshotTables(db)).toEqual([...ORDER].sort());
    expect(all.filter((table) => table in TABLES_LEFT_OUT)).toEqual(all.filter((table) => !ORDER.includes(table)));
    // Each table left out is one this database has (SQLite's own only on SQLite): no stale name.
    const leftOut = Object.keys(TABLES_LEFT_OUT).filter((table) => dialect === "sqlite" || !table.startsWith("sqlite_"));
    expect(all).toEqual(expect.arrayContaining(leftOut));
  });

  it("a change of any one column of one row of any table, each seen and named in the failure", async () => {
    const before = await snapshot(db);
    for (const table of ORDER) expect(before[table]!.split("\n").length, table).toBe(table === "users" ? 2 + BYSTANDERS.length : 2);
    const seen: string[] = [];
    for (const table of ORDER) {
      const row = fixtureRows(0)[table]!;
      for (const [column, old] of Object.entries(row)) {
        const value = changed(old);
        const key = KEY[table]!;
        await tables().updateTable(table).set({ [column]: value }).where(key, "=", row[key]!).execute();
        const failure = mismatch(await snapshot(db), before);
        const ignored = table === "outbox" && !QUEUED.includes(column);
        if (ignored) expect(failure, `${table}.${column}`).toBeNull();
        else {
          expect(failure, `${table}.${column}`).not.toBeNull();
          expect(failure!, `${table}.${column}`).toContain(shown(value));
          seen.push(`${table}.${column}`);
        }
        await tables().updateTable(table).set({ [column]: old }).where(key, "=", column === key ? value : row[key]!).execute();
        expect(mismatch(await snapshot(db), before), `${table}.${column} restored`).toBeNull();
      }
    }
    expect(seen).toEqual(expect.arrayContaining(["users.password_hash", "users.role", "sessions.stage", "audit.detail", "audit.time", "throttles.failures", "notices.body", "outbox.recipient", "codes.tries", "passkeys.public_key", "authenticator_apps.secret", "mail_addresses.undeliverable_at", "forward_reports.report", "rollout_users.contact_email", "devices.revoked_at", "recovery_codes.used_at"]));
  });

  it("a row added to or removed from any table, each seen and named in the failure", async () => {
    let before = await snapshot(db);
    for (const table of ORDER) {
      const row = fixtureRows(0)[table]!;
      const key = KEY[table]!;
      await tables().deleteFrom(table).where(key, "=", row[key]!).execute();
      const removed = mismatch(await snapshot(db), before);
      expect(removed, `${table} row removed`).not.toBeNull();
      expect(removed!, `${table} row removed`).toContain(shown(row[key]!));
      await tables().insertInto(table).values(row).execute();
      // (audit's id is the database's: the row put back is a new row, the next table's baseline.)
      const back = await snapshot(db);
      if (table !== "audit") expect(mismatch(back, before), `${table} row put back`).toBeNull();
      else before = back;
      const copy = fixtureRows(2)[table]!;
      await tables().insertInto(table).values(copy).execute();
      const added = mismatch(await snapshot(db), back);
      expect(added, `${table} row added`).not.toBeNull();
      expect(added!, `${table} row added`).toContain(shown(copy[key]!));
      await tables().deleteFrom(table).where(key, "=", copy[key]!).execute();
      expect(mismatch(await snapshot(db), back), `${table} added row taken away`).toBeNull();
    }
  });

  it("leaves out only what it says: the outbox's delivery columns, audit.exported and the console's counters", async () => {
    const before = await snapshot(db);
    await tables().insertInto("audit").values({ ...fixtureRows(1).audit, event: "audit.exported", detail: "{}" }).execute();
    await tables().insertInto("throttles").values({ ...fixtureRows(1).throttles, key: counterKey.consoleActor("u1") }).execute();
    await tables().updateTable("outbox").set({ state: "sent", attempts: 1 }).where("id", "=", "o0").execute();
    expect(mismatch(await snapshot(db), before)).toBeNull();
    // A throttle whose key merely contains the console's prefix later on is counted.
    await tables().insertInto("throttles").values({ ...fixtureRows(1).throttles, key: `login:${counterKey.consoleActor("u1")}` }).execute();
    expect(mismatch(await snapshot(db), before)).not.toBeNull();
  });
});
