import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type Actor } from "../audit/audit.ts";
import { expireAudit, scrubAudit } from "../audit/rewrite.ts";
import { forgetUnusedAddresses } from "../bounce/forget.ts";
import { DEVICE_LIFETIME_MS } from "../regulation/devices.ts";
import type { Database } from "../store/schema.ts";

export interface CleanupReport {
  sessions: number;
  flows: number;
  codes: number;
  mail: number;
  throttles: number;
  /** Browsers' device rows a year (DEVICE_LIFETIME_MS) after their last use: never usable again. */
  devices: number;
  /** Bounce records, past FAMOS_MAIL_KEEP, of addresses no account has any more. */
  addresses: number;
  auditRemoved: number;
  auditPseudonymised: number;
  /** The longest single statement, in milliseconds (each is one bounded batch), and what it did. */
  longestStatementMs: number;
  longestStatement: string;
}

export interface CleanupOptions {
  /** Rows per statement: small enough that no statement holds a lock for long. */
  batch?: number;
  actor?: Actor;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Failure counts with no lock in force and no new failure for this long are forgotten. */
const THROTTLE_IDLE_MS = 30 * DAY;

/**
 * The retention job (issue 11), `famos cleanup` and hourly inside `famos serve`: expired sessions,
 * finished flows with their codes, sent mail past FAMOS_MAIL_KEEP, idle failure counts, audit events
 * past FAMOS_AUDIT_KEEP; addresses and user agents of events past FAMOS_AUDIT_PSEUDONYMISE_AFTER are
 * replaced. Every statement takes one bounded batch through an index and commits on its own, so a
 * large backlog is worked off without holding a long lock; running it twice at once is harmless.
 */
export async function runCleanup(deps: Deps, options: CleanupOptions = {}): Promise<CleanupReport> {
  const batch = options.batch ?? 500;
  const now = deps.clock.now();
  const { lifecycle, session, otp } = deps.config;
  const report: CleanupReport = { sessions: 0, flows: 0, codes: 0, mail: 0, throttles: 0, devices: 0, addresses: 0, auditRemoved: 0, auditPseudonymised: 0, longestStatementMs: 0, longestStatement: "" };
  const timed = async (name: string, step: () => Promise<number>): Promise<number> => {
    const started = performance.now();
    const n = await step();
    const ms = performance.now() - started;
    if (ms > report.longestStatementMs) Object.assign(report, { longestStatementMs: ms, longestStatement: name });
    return n;
  };
  const drain = async (name: string, step: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = await timed(name, step);
      total += n;
      if (n < batch) return total;
    }
  };
  const { db } = deps;

  // Past its absolute lifetime a session is dead whether or not it ended earlier.
  report.sessions = await drain("sessions", () => deleteBatch(db, "sessions", "token_hash", "expires_at", now - HOUR, batch));
  // A flow outlives every session that could use it, and the hour its codes count toward the cap.
  const flowCutoff = now - Math.max(session.maxMs, HOUR + otp.ttlMs) - HOUR;
  for (;;) {
    // Three statements per batch, each timed: the batch's ids, their codes, the flows.
    let ids: string[] = [];
    await timed("flows (choose)", async () => {
      ids = (await db.selectFrom("flows").select("id").where("created_at", "<", flowCutoff).orderBy("created_at").limit(batch).execute()).map((r) => r.id);
      return ids.length;
    });
    if (ids.length === 0) break;
    report.codes += await timed("codes", async () => Number((await db.deleteFrom("codes").where("flow_id", "in", ids).executeTakeFirst()).numDeletedRows));
    report.flows += await timed("flows", async () => Number((await db.deleteFrom("flows").where("id", "in", ids).executeTakeFirst()).numDeletedRows));
    if (ids.length < batch) break;
  }
  const mailCutoff = now - lifecycle.mailKeepMs;
  report.mail = await drain("sent mail", async () =>
    deleteBatch(db, "outbox", "id", "sent_at", mailCutoff, batch, [["state", "=", "sent"]]),
  );
  // Mail given up on goes after the same time (outbox_due covers state and next_attempt_at).
  report.mail += await drain("failed mail", async () =>
    deleteBatch(db, "outbox", "id", "next_attempt_at", mailCutoff, batch, [["state", "=", "failed"]]),
  );
  report.throttles = await forgetIdleCounters(db, now - THROTTLE_IDLE_MS, now, batch, timed);
  report.devices = await drain("devices", () => deleteBatch(db, "devices", "id", "last_used_at", now - DEVICE_LIFETIME_MS, batch));
  report.addresses = await forgetOldAddresses(db, mailCutoff, batch, timed);
  report.auditRemoved = await drain("audit removal", () => expireAudit(db, deps.dialect, now - lifecycle.auditKeepMs, batch));
  report.auditPseudonymised = await drain("audit pseudonymisation", () => scrubAudit(db, deps.dialect, now - lifecycle.auditPseudonymiseAfterMs, batch));

  if (report.auditRemoved + report.auditPseudonymised > 0) {
    // Changes to the trail are themselves in the trail.
    await recordAudit(db, now, {
      ...(options.actor ?? { actor: "famos:cleanup", ip: null, userAgent: null }),
      event: "retention.cleanup",
      subject: null,
      detail: { removed: report.auditRemoved, pseudonymised: report.auditPseudonymised },
    });
  }
  return report;
}

/**
 * Bounce records last changed before `cutoff`, a batch at a time in (updated_at, address_key) order;
 * those an account still has stay (bounce/forget.ts), and the next batch starts after the last one
 * looked at, so kept records are not read again.
 */
async function forgetOldAddresses(db: Kysely<Database>, cutoff: number, batch: number, timed: (name: string, step: () => Promise<number>) => Promise<number>): Promise<number> {
  let removed = 0;
  let after: { at: number; key: string } | null = null;
  for (;;) {
    const from: { at: number; key: string } | null = after;
    const rows: { address_key: string; updated_at: number }[] = await db
      .selectFrom("mail_addresses")
      .select(["address_key", "updated_at"])
      .where("updated_at", "<", cutoff)
      .$if(from !== null, (q) => q.where((eb) => eb.or([eb("updated_at", ">", from!.at), eb.and([eb("updated_at", "=", from!.at), eb("address_key", ">", from!.key)])])))
      .orderBy("updated_at")
      .orderBy("address_key")
      .limit(batch)
      .execute();
    if (rows.length === 0) return removed;
    removed += await timed("bounce records", () => forgetUnusedAddresses(db, rows.map((r) => r.address_key)));
    const last: { address_key: string; updated_at: number } = rows.at(-1)!;
    after = { at: Number(last.updated_at), key: last.address_key };
    if (rows.length < batch) return removed;
  }
}

/**
 * Failure counts with no failure since `cutoff`, no lock in force at `now` and no lock until support
 * unlocks it. No index serves updated_at (every sign-in would write it: migration 017), so the counters
 * are read a batch of keys at a time in key order, each batch after the last key looked at, and the
 * idle ones among them deleted by key with the rule checked again in the delete itself: a counter
 * counted again between the two statements stays.
 */
async function forgetIdleCounters(db: Kysely<Database>, cutoff: number, now: number, batch: number, timed: (name: string, step: () => Promise<number>) => Promise<number>): Promise<number> {
  let removed = 0;
  let after: string | null = null;
  for (;;) {
    const from: string | null = after;
    const rows: { key: string; updated_at: number; locked_until: number; hard_locked: number }[] = await db
      .selectFrom("throttles")
      .select(["key", "updated_at", "locked_until", "hard_locked"])
      .$if(from !== null, (q) => q.where("key", ">", from!))
      .orderBy("key")
      .limit(batch)
      .execute();
    if (rows.length === 0) return removed;
    const idle = rows.filter((r) => Number(r.updated_at) < cutoff && Number(r.hard_locked) === 0 && Number(r.locked_until) < now).map((r) => r.key);
    if (idle.length > 0) {
      removed += await timed("failure counts", async () =>
        Number((await db.deleteFrom("throttles").where("key", "in", idle).where("updated_at", "<", cutoff).where("hard_locked", "=", 0).where("locked_until", "<", now).executeTakeFirst()).numDeletedRows),
      );
    }
    after = rows.at(-1)!.key;
    if (rows.length < batch) return removed;
  }
}

type Condition = [column: string, op: "=" | "<", value: number | string];

/** One statement: delete up to `batch` rows whose `timeColumn` is before `cutoff`, oldest first. */
async function deleteBatch(
  db: Kysely<Database>,
  table: "sessions" | "outbox" | "devices",
  key: string,
  timeColumn: string,
  cutoff: number,
  batch: number,
  conditions: Condition[] = [],
): Promise<number> {
  // The table and columns are fixed names from this file; values are parameters.
  const dynamic = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  let chosen = dynamic.selectFrom(table).select(key).where(timeColumn, "<", cutoff);
  for (const [column, op, value] of conditions) chosen = chosen.where(column, op, value);
  const result = await dynamic.deleteFrom(table).where(key, "in", chosen.orderBy(timeColumn).limit(batch)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
