import { sql, type Kysely } from "kysely";
import { diff } from "@vitest/utils/diff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counterKey } from "../../src/regulation/counter-key.ts";
import type { Database } from "../../src/store/schema.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";
import { snapshot } from "./helpers.ts";

type Table = "users" | "flows" | "codes" | "sessions" | "throttles" | "outbox" | "audit" | "notices";
type Row = Record<string, string | number | null>;

/** Two rows a table, every column set in the first (the one changed); references point at the second. */
function fixtureRows(n: 0 | 1 | 2): Record<Table, Row> {
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
  };
}

/** The column that finds a row (audit's id is the database's own). */
const KEY: Record<Table, string> = { users: "id", flows: "id", outbox: "id", codes: "id", sessions: "token_hash", throttles: "key", audit: "detail", notices: "id" };
const ORDER: Table[] = ["users", "flows", "outbox", "codes", "sessions", "throttles", "audit", "notices"];
/** What snapshot keeps of the outbox: what was queued, not what the mail sender changes in the background. */
const QUEUED = ["id", "kind", "recipient", "subject"];

/** Another value a column may hold: references and enumerations to another allowed one, else one more or an "x" more. */
const OTHER: Record<string, string> = { u1: "u0", f1: "f0", o1: "o0", user: "admin", full: "otp", signin: "enrol", queued: "sent", soft: "hard" };
function changed(value: string | number | null): string | number {
  return typeof value === "number" ? value + 1 : (OTHER[value!] ?? `${value}x`);
}

/** A value as a diff shows it: inside a row's JSON, inside a printed string. */
function shown(value: string | number | null): string {
  return JSON.stringify(String(value)).slice(1, -1).replace(/["\\]/g, "\\$&");
}

/**
 * What a failed `expect(after).toEqual(before)` shows (its diff, as vitest prints it, only the changed
 * lines and a few around them), or null when they are equal.
 */
function mismatch(after: unknown, before: unknown): string | null {
  try {
    expect(after).toEqual(before);
    return null;
  } catch {
    return diff(before, after, { expand: false, contextLines: 0 }) ?? "(no diff)";
  }
}

/**
 * snapshot (helpers.ts) is what "stores nothing" is checked with, in properties, input and other
 * security tests: it must see a change of any column of any row of every table it reads, an added
 * row and a removed one, on both databases, and name in its failure what changed.
 */
describe.each(DIALECTS)("snapshot sees every change (%s)", (dialect) => {
  let instances: Awaited<ReturnType<typeof openInstances>>;
  let db: Kysely<Database>;
  const tables = (): Kysely<Record<string, Row>> => db as unknown as Kysely<Record<string, Row>>;
  beforeAll(async () => {
    instances = await openInstances(dialect, 1, "snapshot");
    db = instances.deps[0]!.db;
    // This database's own append-only guard is lifted, so a test can change the trail as a fault would.
    if (dialect === "postgres") await sql`ALTER TABLE audit DISABLE TRIGGER USER`.execute(db);
    else for (const trigger of ["audit_no_update", "audit_no_delete"]) await sql`DROP TRIGGER ${sql.ref(trigger)}`.execute(db);
    for (const n of [1, 0] as const) for (const table of ORDER) await tables().insertInto(table).values(fixtureRows(n)[table]).execute();
  });
  afterAll(async () => instances.close());

  it("a change of any one column of one row of any table, each seen and named in the failure", async () => {
    const before = await snapshot(db);
    for (const table of ORDER) expect(before[table]!.split("\n"), table).toHaveLength(2);
    const seen: string[] = [];
    for (const table of ORDER) {
      const row = fixtureRows(0)[table];
      for (const [column, old] of Object.entries(row)) {
        const value = changed(old);
        const key = KEY[table];
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
    expect(seen).toEqual(expect.arrayContaining(["users.password_hash", "users.role", "sessions.stage", "audit.detail", "audit.time", "throttles.failures", "notices.body", "outbox.recipient", "codes.tries"]));
  });

  it("a row added to or removed from any table, each seen and named in the failure", async () => {
    let before = await snapshot(db);
    for (const table of ORDER) {
      const row = fixtureRows(0)[table];
      const key = KEY[table];
      await tables().deleteFrom(table).where(key, "=", row[key]!).execute();
      const removed = mismatch(await snapshot(db), before);
      expect(removed, `${table} row removed`).not.toBeNull();
      expect(removed!, `${table} row removed`).toContain(shown(row[key]!));
      await tables().insertInto(table).values(row).execute();
      // (audit's id is the database's: the row put back is a new row, the next table's baseline.)
      const back = await snapshot(db);
      if (table !== "audit") expect(mismatch(back, before), `${table} row put back`).toBeNull();
      else before = back;
      const copy = fixtureRows(2)[table];
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
