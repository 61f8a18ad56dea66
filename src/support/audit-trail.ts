import type { Kysely, Selectable } from "kysely";
import type { AuditRecord } from "../audit/audit.ts";
import type { AuditTable, Database } from "../store/schema.ts";
import { loginKey } from "../users/users.ts";

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

function filtered(db: Kysely<Database>, filter: AuditFilter) {
  let q = db.selectFrom("audit").selectAll();
  // The login key is computed here (Unicode case and spaces); subjects are stored as keys, and
  // lower() only serves older rows and actors, which keep the login ID as written.
  const user = filter.user === undefined ? "" : loginKey(filter.user);
  if (user) {
    q = q.where((eb) => eb.or([eb("subject", "=", user), eb("actor", "=", user), eb(eb.fn("lower", ["subject"]), "=", user), eb(eb.fn("lower", ["actor"]), "=", user)]));
  }
  if (filter.event) q = q.where("event", "=", filter.event);
  if (filter.since !== undefined) q = q.where("time", ">=", filter.since);
  if (filter.until !== undefined) q = q.where("time", "<", filter.until);
  return q;
}

function toRecord(row: Selectable<AuditTable>): AuditRecord {
  let detail: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(row.detail);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) detail = parsed as Record<string, unknown>;
  } catch {
    // A row written by hand with bad JSON still shows, without detail.
  }
  return { id: Number(row.id), time: Number(row.time), event: row.event, actor: row.actor, subject: row.subject, ip: row.ip, userAgent: row.user_agent, detail };
}

/** One page of the trail, newest first (the console). */
export async function auditPage(db: Kysely<Database>, filter: AuditFilter, page: number): Promise<{ records: AuditRecord[]; page: number; hasNext: boolean }> {
  const current = Math.max(1, Math.floor(page));
  const rows = await filtered(db, filter)
    .orderBy("time", "desc")
    .orderBy("id", "desc")
    .limit(AUDIT_PAGE_SIZE + 1)
    .offset((current - 1) * AUDIT_PAGE_SIZE)
    .execute();
  return { records: rows.slice(0, AUDIT_PAGE_SIZE).map(toRecord), page: current, hasNext: rows.length > AUDIT_PAGE_SIZE };
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
