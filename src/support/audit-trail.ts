import { sql, type Kysely, type Selectable } from "kysely";
import { keyForms, recordAudit, type Actor, type AuditRecord } from "../audit/audit.ts";
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

/**
 * The last page a typed `?page=N` opens by number. A numbered page is read by OFFSET, which reads and
 * throws away every newer row: 0.9 to 2.2 s at page 2,000 on PostgreSQL, so 20 pages (950 rows skipped)
 * costs about a hundredth of that. Past it the page of this number is shown, saying that "Next page"
 * goes on from there: the Older and Newer links read by keyset, as fast however deep.
 */
export const AUDIT_NUMBERED_PAGES = 20;

/** What the trail shows, as actor and subject, for a login ID no account has (see toRecord). */
export const UNKNOWN_LOGIN_ID = "(a login ID no account has)";

/**
 * The events whose login ID is whatever was typed into a form (Log in, Forgot password?), counted
 * and audited whether or not an account has it (SPEC "Locks"): the reset's code lines are code.failed
 * and code.expired, as sign-in's (codeRefusedLine).
 */
const TYPED_LOGIN_EVENTS: ReadonlySet<string> = new Set(["password.failed", "lock.started", "code.failed", "code.expired"]);

/** The name an erased account's events keep (src/account/erase.ts: "erased-" and 6 random bytes). */
const ERASED = /^erased-[A-Za-z0-9_-]{8}$/;

/** The rows the filter keeps, nothing selected yet. */
function matching(db: Kysely<Database>, filter: AuditFilter) {
  let q = db.selectFrom("audit");
  // Subjects and actors keep the login ID as written or its key: found in every case (keyForms),
  // through the indexes on these two expressions (migration 015): one person's events among months of everyone's.
  const user = filter.user === undefined ? [] : keyForms(db, filter.user);
  if (user.length > 0 && user[0] !== "") q = q.where((eb) => eb.or([eb(sql<string>`lower(trim(subject))`, "in", user), eb(sql<string>`lower(trim(actor))`, "in", user)]));
  if (filter.event) q = q.where("event", "=", filter.event);
  if (filter.since !== undefined) q = q.where("time", ">=", filter.since);
  if (filter.until !== undefined) q = q.where("time", "<", filter.until);
  return q;
}

function filtered(db: Kysely<Database>, filter: AuditFilter) {
  return matching(db, filter).selectAll("audit");
}

/**
 * The keys, among the subjects of `rows`' typed login IDs (TYPED_LOGIN_EVENTS), that an account has:
 * one read of users by login_key. The key is computed here (loginKey), where case folds in every
 * script: a subject is the key or the login ID as written ("Özge.Expired"), which SQLite's lower() would not fold.
 */
async function keysWithAccount(db: Kysely<Database>, rows: readonly Row[]): Promise<ReadonlySet<string>> {
  const keys = [...new Set(rows.filter((row) => TYPED_LOGIN_EVENTS.has(row.event) && row.subject !== null).map((row) => loginKey(row.subject!)))];
  if (keys.length === 0) return new Set();
  const found = await db.selectFrom("users").select("login_key").where("login_key", "in", keys).execute();
  return new Set(found.map((user) => user.login_key));
}

/** The rows as the trail shows them (toRecord). */
async function recordsOf(db: Kysely<Database>, rows: readonly Row[]): Promise<AuditRecord[]> {
  const known = await keysWithAccount(db, rows);
  return rows.map((row) => toRecord(row, known));
}

/**
 * An event as the console, its CSV export and `famos audit` show it. A login ID no account has is
 * shown as UNKNOWN_LOGIN_ID, without the form typed (`detail.typed`): what lands in the Login ID
 * field is now and then the password (autofill, a slip of the Tab key), and the attempt a few seconds
 * later from the same address tells whose it is. Support reads the trail; credentials must not reach
 * it (ASVS 7.1.1, OWASP Logging Cheat Sheet). The attempts still show, with their address, time and
 * browser, so spraying and a user typing the wrong login ID can still be seen.
 */
function toRecord(row: Selectable<AuditTable>, withAccount: ReadonlySet<string>): AuditRecord {
  let detail: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(row.detail);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) detail = parsed as Record<string, unknown>;
  } catch {
    // A row written by hand with bad JSON still shows, without detail.
  }
  const record = { id: Number(row.id), time: Number(row.time), event: row.event, actor: row.actor, subject: row.subject, ip: row.ip, userAgent: row.user_agent, detail };
  if (!TYPED_LOGIN_EVENTS.has(row.event) || row.subject === null || withAccount.has(loginKey(row.subject)) || ERASED.test(row.subject)) return record;
  const typed = (value: string | null) => value !== null && (value === row.subject || loginKey(value) === loginKey(row.subject!));
  const { typed: _typed, ...rest } = detail;
  return { ...record, actor: typed(row.actor) ? UNKNOWN_LOGIN_ID : row.actor, subject: UNKNOWN_LOGIN_ID, detail: rest };
}

export interface AuditPage {
  records: AuditRecord[];
  /** The page's number: counted for `?page=N`, carried by the Older and Newer links otherwise. */
  page: number;
  /** Older events follow (the Next link). */
  hasNext: boolean;
  /** Newer events come before (the Previous link). */
  hasPrevious: boolean;
  pastEnd: PastEnd | null;
  /** Set when a number past AUDIT_NUMBERED_PAGES was asked for and the trail goes on past it. */
  pageLimit: { asked: number; limit: number } | null;
}

/**
 * Which page is asked for: a numbered one (`?page=N`, links kept from before keyset pages), or the 50
 * events older than a row (`?before=<id>`, the Next link) or newer than one (`?after=<id>`, the Previous
 * link), whose `page` is the number the link carries, shown and nothing more (the last page, reached
 * past the end, is numbered as the last).
 */
export type AuditAt = { page: number; before?: number; after?: number };

type Cursor = { time: number; id: number };
type Row = Awaited<ReturnType<ReturnType<typeof filtered>["execute"]>>[number];

/** Newest first: time, then id (events of one millisecond: an import's batch). */
const NEWEST_FIRST = "desc" as const;

/**
 * The rows after `from` in `order` (desc: older; asc: newer), a page and one more. `time <= t` (or
 * `>=`) alone is what audit_time serves; the id tells the rows of t's millisecond apart.
 */
function beyond(db: Kysely<Database>, filter: AuditFilter, from: Cursor, order: "asc" | "desc", limit: number) {
  const { time, id } = from;
  return filtered(db, filter)
    .where((eb) => (order === "desc"
      ? eb.and([eb("time", "<=", time), eb.or([eb("time", "<", time), eb("id", "<", id)])])
      : eb.and([eb("time", ">=", time), eb.or([eb("time", ">", time), eb("id", ">", id)])])))
    .orderBy("time", order)
    .orderBy("id", order)
    .limit(limit)
    .execute();
}

function numbered(db: Kysely<Database>, filter: AuditFilter, page: number) {
  return filtered(db, filter)
    .orderBy("time", NEWEST_FIRST)
    .orderBy("id", NEWEST_FIRST)
    .limit(AUDIT_PAGE_SIZE + 1)
    .offset((page - 1) * AUDIT_PAGE_SIZE)
    .execute();
}

/**
 * The last page (the oldest events), read from the trail's oldest end rather than past every newer
 * row: the rows a numbered last page holds (total % 50, or 50), oldest first, then turned around.
 */
async function lastPage(db: Kysely<Database>, filter: AuditFilter, asked: number): Promise<AuditPage> {
  const counted = await matching(db, filter).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  const total = Number(counted.n);
  const within = pageWithin(asked, total, AUDIT_PAGE_SIZE);
  const size = total - (within.pageCount - 1) * AUDIT_PAGE_SIZE;
  const rows = total === 0 ? [] : await filtered(db, filter).orderBy("time", "asc").orderBy("id", "asc").limit(size).execute();
  // Numbered as the last page whatever the link carried: an Older link whose row the retention job
  // removed, or typed by hand, may carry a number within the trail (?before=<gone>&page=2).
  return { records: await recordsOf(db, rows.reverse()), page: within.pageCount, hasNext: false, hasPrevious: within.pageCount > 1, pastEnd: within.pastEnd, pageLimit: null };
}

/** A page of rows read newest first, a page and one more: the page, and whether older follow. */
async function shown(db: Kysely<Database>, rows: Row[], page: number, hasPrevious: boolean): Promise<AuditPage> {
  return { records: await recordsOf(db, rows.slice(0, AUDIT_PAGE_SIZE)), page, hasNext: rows.length > AUDIT_PAGE_SIZE, hasPrevious, pastEnd: null, pageLimit: null };
}

/**
 * One page of the trail, newest first (the console). Pages are not counted (a trail of months would
 * be counted on every page). The Older and Newer links continue from a row (AuditAt), read through
 * audit_time however deep; a numbered page (`?page=N`) skips the pages before it (OFFSET), up to
 * AUDIT_NUMBERED_PAGES (a number past it gets that page, said, when the trail goes on). Past the end
 * (a numbered page, or Older of the last row or of a row no longer kept) the rows are counted once and
 * the last page is shown instead, said (src/support/paging.ts); Newer of the second page, or of a row no
 * longer kept, is the first page.
 */
export async function auditPage(db: Kysely<Database>, filter: AuditFilter, at: AuditAt): Promise<AuditPage> {
  const asked = Math.max(1, Math.floor(at.page));
  const cursorId = at.before ?? at.after;
  if (cursorId !== undefined) {
    const row = await db.selectFrom("audit").select(["time", "id"]).where("id", "=", cursorId).executeTakeFirst();
    const from = row ? { time: Number(row.time), id: Number(row.id) } : null;
    if (at.before !== undefined) {
      const rows = from ? await beyond(db, filter, from, "desc", AUDIT_PAGE_SIZE + 1) : [];
      // Never page 1: newer events than the row are there (or were: the row named is one).
      if (rows.length > 0) return shown(db, rows, Math.max(2, asked), true);
      return lastPage(db, filter, Math.max(2, asked));
    }
    const newer = from ? await beyond(db, filter, from, "asc", AUDIT_PAGE_SIZE + 1) : [];
    if (newer.length > AUDIT_PAGE_SIZE) {
      const page = newer.slice(0, AUDIT_PAGE_SIZE).reverse();
      const below = await beyond(db, filter, { time: Number(page.at(-1)!.time), id: Number(page.at(-1)!.id) }, "desc", 1);
      return shown(db, [...page, ...below], Math.max(2, asked), true);
    }
  }
  const wanted = cursorId === undefined ? asked : 1;
  const page = Math.min(wanted, AUDIT_NUMBERED_PAGES);
  const rows = await numbered(db, filter, page);
  // Past the end (the bound's page empty, or the last): the last page, said, read from the oldest end.
  if (wanted > 1 && (rows.length === 0 || (wanted > page && rows.length <= AUDIT_PAGE_SIZE))) return lastPage(db, filter, wanted);
  return { ...(await shown(db, rows, page, page > 1)), pageLimit: wanted > page ? { asked: wanted, limit: page } : null };
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
    for (const record of await recordsOf(db, rows)) yield record;
    if (rows.length < batch) return;
    const last = rows.at(-1)!;
    after = { time: Number(last.time), id: Number(last.id) };
  }
}

/**
 * The console's CSV export: every matching event with addresses, IPs and browsers whole (the page
 * masks the addresses), so taking it out is itself audited first, with who and which part (ASVS
 * 7.1.3; OWASP Logging cheat sheet, "data export"): an insider's bulk copy is not silent.
 */
export async function exportAuditTrail(db: Kysely<Database>, now: number, by: Actor, filter: AuditFilter): Promise<AsyncGenerator<AuditRecord>> {
  const at = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  const detail = { user: filter.user ?? null, event: filter.event ?? null, since: at(filter.since), until: at(filter.until) };
  await recordAudit(db, now, { ...by, event: "audit.exported", subject: null, detail });
  return auditRecords(db, filter, "asc");
}
