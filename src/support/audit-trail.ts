import { sql, type Kysely, type Selectable } from "kysely";
import type { AuditRecord } from "../audit/audit.ts";
import type { AuditTable, Database } from "../store/schema.ts";
import { loginKey } from "../users/users.ts";
import { pageWithin, type PastEnd } from "./paging.ts";

/** The console's and `famos audit`'s filters; every one optional. */
export interface AuditFilter {
  /** A login ID: events about it (subject) or done by it (actor), ignoring case. */
  user?: string;
  event?: string;
  /** Inclusive lower bound, ms since the epoch. */
  since?: number;
  /** Exclusive upper bound. */
  until?: number;
}

export const AUDIT_PAGE_SIZE = 50;

/** What the trail shows, as actor and subject, for a login ID no account has (see toRecord). */
export const UNKNOWN_LOGIN_ID = "(a login ID no account has)";

/**
 * The events whose login ID is whatever was typed into a form (Log in, Forgot password?), counted
 * and audited whether or not an account has it (SPEC "Locks").
 */
const TYPED_LOGIN_EVENTS: ReadonlySet<string> = new Set(["password.failed", "lock.started", "code.failed"]);

/** The name an erased account's events keep (src/account/erase.ts: "erased-" and 6 random bytes). */
const ERASED = /^erased-[A-Za-z0-9_-]{8}$/;

/** The rows the filter keeps, nothing selected yet. */
function matching(db: Kysely<Database>, filter: AuditFilter) {
  let q = db.selectFrom("audit");
  // The login key is computed here (Unicode case and spaces); subjects are stored as keys, older
  // rows and actors keep the login ID as written. Compared as erasure compares them, through the
  // indexes on these two expressions (migration 015): one person's events among months of everyone's.
  const user = filter.user === undefined ? "" : loginKey(filter.user);
  if (user) q = q.where((eb) => eb.or([eb(sql<string>`lower(trim(subject))`, "=", user), eb(sql<string>`lower(trim(actor))`, "=", user)]));
  if (filter.event) q = q.where("event", "=", filter.event);
  if (filter.since !== undefined) q = q.where("time", ">=", filter.since);
  if (filter.until !== undefined) q = q.where("time", "<", filter.until);
  return q;
}

function filtered(db: Kysely<Database>, filter: AuditFilter) {
  return matching(db, filter)
    .selectAll("audit")
    // Older rows keep the login ID as written, hence lower() too (as in matching's user filter).
    .select((eb) =>
      eb
        .exists(eb.selectFrom("users").select("users.id").where((w) => w.or([w("users.login_key", "=", w.ref("audit.subject")), w("users.login_key", "=", w.fn<string>("lower", [w.ref("audit.subject")]))])))
        .as("subject_has_account"),
    );
}

/**
 * An event as the console, its CSV export and `famos audit` show it. A login ID no account has is
 * shown as UNKNOWN_LOGIN_ID, without the form typed (`detail.typed`): what lands in the Login ID
 * field is now and then the password (autofill, a slip of the Tab key), and the attempt a few seconds
 * later from the same address tells whose it is. Support reads the trail; credentials must not reach
 * it (ASVS 7.1.1, OWASP Logging Cheat Sheet). The attempts still show, with their address, time and
 * browser, so spraying and a user typing the wrong login ID can still be seen.
 */
function toRecord(row: Selectable<AuditTable> & { subject_has_account: unknown }): AuditRecord {
  let detail: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(row.detail);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) detail = parsed as Record<string, unknown>;
  } catch {
    // A row written by hand with bad JSON still shows, without detail.
  }
  const record = { id: Number(row.id), time: Number(row.time), event: row.event, actor: row.actor, subject: row.subject, ip: row.ip, userAgent: row.user_agent, detail };
  // 1 on SQLite, true on PostgreSQL.
  if (!TYPED_LOGIN_EVENTS.has(row.event) || row.subject === null || Number(row.subject_has_account) === 1 || ERASED.test(row.subject)) return record;
  const typed = (value: string | null) => value !== null && (value === row.subject || loginKey(value) === loginKey(row.subject!));
  const { typed: _typed, ...rest } = detail;
  return { ...record, actor: typed(row.actor) ? UNKNOWN_LOGIN_ID : row.actor, subject: UNKNOWN_LOGIN_ID, detail: rest };
}

export interface AuditPage {
  records: AuditRecord[];
  page: number;
  hasNext: boolean;
  pastEnd: PastEnd | null;
}

/**
 * One page of the trail, newest first (the console). Pages are not counted (a trail of months would
 * be counted on every page): only a page that comes back empty, past the first, counts the rows to
 * find the last page, which it shows instead (src/support/paging.ts).
 */
export async function auditPage(db: Kysely<Database>, filter: AuditFilter, page: number): Promise<AuditPage> {
  const read = (current: number) =>
    filtered(db, filter)
      .orderBy("time", "desc")
      .orderBy("id", "desc")
      .limit(AUDIT_PAGE_SIZE + 1)
      .offset((current - 1) * AUDIT_PAGE_SIZE)
      .execute();
  const asked = Math.max(1, Math.floor(page));
  let rows = await read(asked);
  let within = { page: asked, pastEnd: null as PastEnd | null };
  if (rows.length === 0 && asked > 1) {
    const counted = await matching(db, filter).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    within = pageWithin(asked, Number(counted.n), AUDIT_PAGE_SIZE);
    rows = await read(within.page);
  }
  return { records: rows.slice(0, AUDIT_PAGE_SIZE).map(toRecord), page: within.page, hasNext: rows.length > AUDIT_PAGE_SIZE, pastEnd: within.pastEnd };
}

/**
 * Every matching event, in batches on a keyset (time, id) so a long export neither holds the whole
 * trail in memory nor skips or repeats rows as new events arrive.
 */
export async function* auditRecords(db: Kysely<Database>, filter: AuditFilter, order: "asc" | "desc", batch = 500): AsyncGenerator<AuditRecord> {
  let after: { time: number; id: number } | null = null;
  for (;;) {
    let q = filtered(db, filter);
    if (after) {
      const { time, id } = after;
      q = order === "asc"
        ? q.where((eb) => eb.or([eb("time", ">", time), eb.and([eb("time", "=", time), eb("id", ">", id)])]))
        : q.where((eb) => eb.or([eb("time", "<", time), eb.and([eb("time", "=", time), eb("id", "<", id)])]));
    }
    const rows = await q.orderBy("time", order).orderBy("id", order).limit(batch).execute();
    for (const row of rows) yield toRecord(row);
    if (rows.length < batch) return;
    const last = rows.at(-1)!;
    after = { time: Number(last.time), id: Number(last.id) };
  }
}
