import { sql, type Kysely } from "kysely";
import { preparedQuery } from "../store/prepared.ts";
import type { Database } from "../store/schema.ts";
import { loginKey } from "../users/users.ts";
import type { AuditEventName } from "./events.ts";

/** How the command line's events name their actor: "operator:" and the operating-system account (cli/context.ts operator). */
export const OPERATOR_PREFIX = "operator:";
/** The ip of the command line's events; an event of a request records the client's address. */
export const COMMAND_LINE_IP = "cli";

/** Who did something and from where. The command line uses ip COMMAND_LINE_IP. */
export interface Actor {
  /** Login ID of the person acting, or "operator:<name>" for the command line. */
  actor: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry extends Actor {
  event: AuditEventName;
  /** Login ID the event is about; the factor steps pass the normalised login key (the form typed goes in `detail.typed`). */
  subject: string | null;
  detail?: Record<string, string | number | boolean | null>;
}

/**
 * Appends one event. Codes and passwords must never be passed in `detail`; the table is
 * append-only (a database trigger refuses updates and deletes).
 */
// Several per sign-in: built and compiled once (preparedQuery).
const insertAudit = preparedQuery(
  (db, time: number, event: AuditEntry["event"], actor: string | null, subject: string | null, ip: string | null, userAgent: string | null, detail: string) =>
    db.insertInto("audit").values({ time, event, actor, subject, ip, user_agent: userAgent, detail }),
);

export async function recordAudit(db: Kysely<Database>, now: number, entry: AuditEntry): Promise<void> {
  const row = auditRow(now, entry);
  await insertAudit(db, row.time, row.event, row.actor, row.subject, row.ip, row.user_agent, row.detail);
}

/** Appends many events in one statement (a batch of imported users: one round trip, not hundreds). */
export async function recordAuditMany(db: Kysely<Database>, now: number, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insertInto("audit").values(entries.map((entry) => auditRow(now, entry))).execute();
}

function auditRow(now: number, entry: AuditEntry) {
  return {
    time: now,
    event: entry.event,
    actor: entry.actor,
    subject: entry.subject,
    ip: entry.ip,
    user_agent: entry.userAgent === null ? null : entry.userAgent.slice(0, 512),
    detail: JSON.stringify(entry.detail ?? {}),
  };
}

export interface AuditQuery {
  subject?: string | undefined;
  /** Only events of this actor, as written (a login ID, or "operator:<name>"): ownRecentEvents' reader. */
  actor?: string;
  event?: string;
  since?: number;
  until?: number;
  /** Only events written after the one with this id (ids follow the order of writing, whatever the host clock said). */
  afterId?: number;
  limit?: number;
  offset?: number;
}

export interface AuditRecord {
  id: number;
  time: number;
  event: string;
  actor: string | null;
  subject: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown>;
}

/** How many forms keyForms gives at most (IN lists of the index's expression); 2^8 for eight capitals beyond ASCII. */
const MOST_FORMS = 256;

let capitals: Map<string, string[]> | undefined;

/** The capitals (upper and title case, composed) whose lower case is `letter`, beyond ASCII: "ö" → "Ö", "ß" → "ẞ", "ǆ" → "Ǆ", "ǅ". */
function capitalsOf(letter: string): readonly string[] {
  if (capitals === undefined) {
    capitals = new Map();
    for (let point = 0x80; point <= 0xffff; point++) {
      const c = String.fromCharCode(point);
      const lower = c.toLowerCase();
      if (lower !== c && c.normalize("NFC") === c) capitals.set(lower, [...(capitals.get(lower) ?? []), c]);
    }
  }
  return capitals.get(letter) ?? [];
}

/**
 * Every value `lower(trim(column))` has in `db` for a login ID written in any case whose key (loginKey) is
 * that of `login`: the one home for finding a person's audit rows by subject or actor (queryAudit, the
 * console's trail, erasure). Subjects and actors are stored as written or as keys. PostgreSQL's lower()
 * folds every script (store/database.ts): the key alone. SQLite's folds ASCII alone, so "Özge.Claims" is
 * "Özge.claims" there: the key with each letter beyond ASCII also as its capitals. Compared with IN,
 * through the indexes on lower(trim(subject)) and lower(trim(actor)) (migrations 015, 016), never a
 * scan. Past MOST_FORMS (more than eight such letters) the further ones are taken in lower case only.
 */
export function keyForms(db: Kysely<Database>, login: string): string[] {
  // The adapter's class name tells the dialect without a query (as migrations 001, 031 tell it).
  if (db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return [loginKey(login)];
  let forms = [""];
  for (const letter of loginKey(login)) {
    const all = [letter, ...capitalsOf(letter)];
    const kept = forms.length * all.length <= MOST_FORMS ? all : [letter];
    forms = forms.flatMap((form) => kept.map((c) => form + c));
  }
  return forms;
}

/** Newest first. A subject is found in any case it was written in (keyForms). */
export async function queryAudit(db: Kysely<Database>, query: AuditQuery): Promise<AuditRecord[]> {
  let q = db.selectFrom("audit").selectAll();
  if (query.subject) {
    // Compared as the console and erasure compare it, through audit_subject_key_time (migration 016).
    q = q.where(sql<string>`lower(trim(subject))`, "in", keyForms(db, query.subject));
  }
  if (query.actor !== undefined) q = q.where("actor", "=", query.actor);
  if (query.event) q = q.where("event", "=", query.event);
  if (query.since !== undefined) q = q.where("time", ">=", query.since);
  if (query.until !== undefined) q = q.where("time", "<", query.until);
  if (query.afterId !== undefined) q = q.where("id", ">", query.afterId);
  const rows = await q
    .orderBy("time", "desc")
    .orderBy("id", "desc")
    .limit(query.limit ?? 100)
    .offset(query.offset ?? 0)
    .execute();
  return rows.map((row) => ({
    id: Number(row.id),
    time: row.time,
    event: row.event,
    actor: row.actor,
    subject: row.subject,
    ip: row.ip,
    userAgent: row.user_agent,
    detail: safeJson(row.detail),
  }));
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}
