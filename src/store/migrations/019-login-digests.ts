import { sql, type Kysely, type Migration } from "kysely";
import { FROZEN_NO_ACCOUNT_PREFIX as NO_ACCOUNT_PREFIX, frozenLoginDigest as loginDigest, frozenLoginKey as loginKey, type FrozenLoginKeys } from "./frozen-login-digest.ts";

// Frozen once released: later changes go in a new migration.
// Text typed into Login ID that no account has is now and then the password (src/users/login-digest.ts).
// Before this migration it was stored as typed: as the key of its counters ("password:id:<typed>")
// and in the audit trail's rows of the events a form's login ID goes to (subject, actor and
// detail.typed). Here every login ID's counters are keyed by its keyed digest instead, as the factor
// steps now count them (a lock in force, the one until support unlocks it included, holds on), and
// those audit rows of a login ID no account has keep its digest, without detail.typed. The digest
// needs FAMOS_SECRET: `famos migrate`, `famos serve` and every command give the keys; a database with
// nothing to rewrite (a new one) needs none. On SQLite the old text is overwritten in the file too
// (secure_delete, then a checkpoint that empties the WAL).

/** The events whose login ID is whatever was typed into a form (src/support/audit-trail.ts). */
const TYPED_LOGIN_EVENTS = ["password.failed", "lock.started", "code.failed"];
/** An erased account's pseudonym (src/account/erase.ts): no typed text. */
const ERASED = /^erased-[A-Za-z0-9_-]{8}$/;
const BATCH = 1000;

export function loginDigests(keys: FrozenLoginKeys | null): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Each migration runs in a transaction of its own (both dialects here).
      const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
      if (postgres) return rewrite(db, keys, true);
      // The pages the old text leaves are zeroed, not only freed (src/store/migrate.ts then empties the WAL).
      await sql`PRAGMA secure_delete = ON`.execute(db);
      try {
        await rewrite(db, keys, false);
      } finally {
        await sql`PRAGMA secure_delete = OFF`.execute(db);
      }
    },
    // The digests stay: an older FAMOS counts afresh under the typed form, and shows a digest as a
    // login ID no account has, as it showed the text typed.
    async down(): Promise<void> {},
  };
}

async function rewrite(db: Kysely<any>, keys: FrozenLoginKeys | null, postgres: boolean): Promise<void> {
  const digest = (typed: string) => {
    if (!keys) throw new Error("the login IDs stored as typed need FAMOS_SECRET to be rewritten: run famos migrate with the server's settings");
    return loginDigest(keys, loginKey(typed));
  };
  const counters = (await db.selectFrom("throttles").selectAll().where("key", "like", "%:id:%").execute()) as Counter[];
  // Keys an older version kept apart for one login ID (its accents decomposed before migration 013,
  // composed after) have one digest: merged into one counter, the strictest lock kept.
  const merged = new Map<string, Counter[]>();
  for (const counter of counters) {
    const at = counter.key.indexOf(":id:");
    const key = `${counter.key.slice(0, at)}:id:${digest(counter.key.slice(at + 4))}`;
    merged.set(key, [...(merged.get(key) ?? []), counter]);
  }
  for (const [key, [first, ...more]] of merged) {
    if (more.length === 0) {
      await db.updateTable("throttles").set({ key }).where("key", "=", first!.key).execute();
      continue;
    }
    const all = [first!, ...more];
    const most = (column: keyof Omit<Counter, "key">) => Math.max(...all.map((c) => Number(c[column])));
    await db.deleteFrom("throttles").where("key", "in", all.map((c) => c.key)).execute();
    await db
      .insertInto("throttles")
      .values({ key, failures: most("failures"), locked_until: most("locked_until"), hard_locked: most("hard_locked"), updated_at: most("updated_at"), window_started_at: Math.min(...all.map((c) => Number(c.window_started_at))) })
      .execute();
  }

  const accounts = new Set(((await db.selectFrom("users").select("login_key").execute()) as { login_key: string }[]).map((u) => u.login_key));
  const hasAccount = (subject: string) => accounts.has(subject) || accounts.has(loginKey(subject));
  // The trail may be long: read in batches by id, only the rows whose subject no account has by its
  // stored form (SQL's lower() folds ASCII only: the application's loginKey decides the rest).
  let gateOpen = false;
  for (let after = -1; ; ) {
    const rows = (await db
      .selectFrom("audit")
      .select(["id", "actor", "subject", "detail"])
      .where("event", "in", TYPED_LOGIN_EVENTS)
      .where("subject", "is not", null)
      .where("id", ">", after)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("users").select("id").where((w) => w.or([w("users.login_key", "=", w.ref("audit.subject")), w("users.login_key", "=", w.fn("lower", [w.ref("audit.subject")]))])))))
      .orderBy("id")
      .limit(BATCH)
      .execute()) as { id: number; actor: string | null; subject: string; detail: string }[];
    for (const row of rows) {
      if (hasAccount(row.subject) || ERASED.test(row.subject) || row.subject.startsWith(NO_ACCOUNT_PREFIX)) continue;
      // The append-only trail lets a row change only through a gate that keeps its event, time and id (migration 003).
      if (!gateOpen) await sql`${postgres ? sql`select set_config('famos.audit_rewrite', 'on', true)` : sql`insert into audit_gate (open) values (1)`}`.execute(db);
      gateOpen = true;
      const stored = `${NO_ACCOUNT_PREFIX}${digest(row.subject)}`;
      const typed = row.actor !== null && (row.actor === row.subject || loginKey(row.actor) === loginKey(row.subject));
      await db.updateTable("audit").set({ subject: stored, actor: typed ? stored : row.actor, detail: withoutTyped(row.detail) }).where("id", "=", row.id).execute();
    }
    if (rows.length < BATCH) break;
    after = Number(rows.at(-1)!.id);
  }
  if (gateOpen) await sql`${postgres ? sql`select set_config('famos.audit_rewrite', 'off', true)` : sql`delete from audit_gate`}`.execute(db);
}

interface Counter {
  key: string;
  failures: number;
  locked_until: number;
  hard_locked: number;
  updated_at: number;
  window_started_at: number;
}

/** The detail without `typed` (bad JSON, which no reader shows, becomes an empty detail). */
function withoutTyped(detail: string): string {
  try {
    const parsed: unknown = JSON.parse(detail);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return "{}";
    const { typed: _typed, ...rest } = parsed as Record<string, unknown>;
    return JSON.stringify(rest);
  } catch {
    return "{}";
  }
}
