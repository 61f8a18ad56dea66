import { sql, type Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { counterKey, loginIdKeySql } from "../regulation/counter-key.ts";
import { EVER_LOCKED, readCounters } from "../regulation/counter.ts";
import { SIGN_IN_KINDS } from "../regulation/throttle.ts";
import { loginDigest } from "../users/login-digest.ts";
import type { Database } from "../store/schema.ts";
import { readPlan, startInPlan } from "./plan.ts";

/** The figures of issue 12 for one partner or for everyone. */
export interface Figures {
  users: number;
  /** A confirmed OTP email. */
  enrolled: number;
  /** An address entered, its code not confirmed yet. */
  pending: number;
  /** Neither. enrolled + pending + notStarted = users. */
  notStarted: number;
  /** Login ID locked now (for a while, or until support unlocks it); counted within the three above. */
  locked: number;
  /** Accounts disabled by an administrator; counted within the three above. */
  disabled: number;
}

export interface PartnerFigures extends Figures {
  partnerNumber: string;
  /** The partner's start, or null when there is no plan (2FA applies to everyone). */
  startsAt: number | null;
}

export interface DailyEnrolments {
  /** dd/mm/yyyy in FAMOS_TIMEZONE, or the zone rolloutProgress was given. */
  day: string;
  /** Confirmed OTP emails that day: codes confirmed at sign-in, and `imported`. */
  enrolled: number;
  /** Of `enrolled`, the accounts created with a confirmed address (`user import`, `user add --email`, the console). */
  imported: number;
}

/**
 * A user.created event whose account got a confirmed OTP email, or a user.updated one (import
 * --update) that gave an account its first (detail.emailGiven; an address imported as a contact is
 * not one). The detail is JSON.stringify's text, without spaces.
 */
export const CREATED_ENROLLED_DETAIL = '%"emailGiven":true%';

export interface RolloutProgress {
  overall: Figures;
  partners: PartnerFigures[];
  days: DailyEnrolments[];
}

const EMPTY: Figures = { users: 0, enrolled: 0, pending: 0, notStarted: 0, locked: 0, disabled: 0 };
const DAY_MS = 86_400_000;

/** Accounts disabled by support or `famos user disable` (issue 11's `users.disabled_at`), per partner. */
export async function disabledUsersByPartner(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("users")
    .select(["partner_number", sql<number>`count(*)`.as("n")])
    .where("disabled_at", "is not", null)
    .groupBy("partner_number")
    .execute();
  return new Map(rows.map((r) => [r.partner_number, Number(r.n)]));
}

/** Users, enrolled, pending and not started per partner, in one grouped query. */
async function partnerCounts(db: Kysely<Database>) {
  return db
    .selectFrom("users as u")
    .select([
      "u.partner_number as partner",
      sql<number>`count(*)`.as("users"),
      sql<number>`sum(case when u.otp_email is not null then 1 else 0 end)`.as("enrolled"),
      sql<number>`sum(case when u.otp_email is null and u.pending_email is not null then 1 else 0 end)`.as("pending"),
    ])
    .groupBy("u.partner_number")
    .orderBy("u.partner_number")
    .execute();
}

/**
 * Accounts whose login ID is locked now (a password or code lock, timed or until support unlocks it),
 * per partner. A login ID's counters are keyed by its keyed digest (src/users/login-digest.ts), which
 * each account keeps (users.login_digest, migration 021): one statement that reads the locks in force
 * (usually none), each digest once (UNION), and joins each one's accounts by that column's index; a
 * login ID no account has finds none. Two accounts may share a digest: those whose login IDs differ
 * only in how their accents are composed, kept apart by migration 013; they share their counters too.
 * An account without a digest (an older instance created it during a rolling upgrade) is counted too.
 */
export async function lockedUsersByPartner(deps: Pick<Deps, "db" | "keys">, now: number): Promise<Map<string, number>> {
  const inForce = SIGN_IN_KINDS.map((kind) => {
    const key = loginIdKeySql(kind, sql.ref("key"));
    // EVER_LOCKED, as migration 024's index has it, so that only counters that ever locked are read.
    return sql`select ${key.loginKey} as digest from throttles where ${key.isKind} and (${EVER_LOCKED}) and (hard_locked = 1 or locked_until > ${now})`;
  });
  const { rows } = await sql<{ partner: string; n: number }>`
    select users.partner_number as partner, count(*) as n
    from (${sql.join(inForce, sql` union `)}) as locks
    join users on users.login_digest = locks.digest
    group by users.partner_number`.execute(deps.db);
  const counts = new Map(rows.map((r) => [r.partner, Number(r.n)]));
  // The accounts without a digest (null): created by an older instance during a rolling upgrade, until
  // the next start fills them in. Usually none, found by the column's index; their digests made here.
  const undigested = await deps.db.selectFrom("users").select(["partner_number", "login_key"]).where("login_digest", "is", null).execute();
  if (undigested.length === 0) return counts;
  const keyed = undigested.map((u) => ({ partner: u.partner_number, keys: SIGN_IN_KINDS.map((kind) => counterKey.loginId(kind, loginDigest(deps.keys, u.login_key))) }));
  const locks = await readCounters(deps.db, keyed.flatMap((u) => u.keys));
  const lockedKeys = new Set(locks.filter((c) => c.hardLocked || c.lockedUntil > now).map((c) => c.key));
  for (const u of keyed) if (u.keys.some((k) => lockedKeys.has(k))) counts.set(u.partner, (counts.get(u.partner) ?? 0) + 1);
  return counts;
}

/**
 * Confirmed enrolments per day (from the audit trail) over the last `days` days, oldest first: an
 * address confirmed with its code at sign-in on the day it was confirmed, and an account created with
 * a confirmed address (an import's rows) on the day it was created, counted apart as `imported` too,
 * so the days add up to the enrolled figure's growth (the operator's import is not a sign-in).
 */
async function dailyEnrolments(deps: Deps, now: number, days: number, tz: string): Promise<DailyEnrolments[]> {
  const format = new Intl.DateTimeFormat("en-GB", { timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric" });
  // Calendar days, counted back from today's date in the zone: stepping back 24 hours from now
  // skipped the 23-hour day of a spring change of the clocks in the hour after midnight.
  const today = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, Number(p.value)]));
  const asDate = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric" });
  const labels: string[] = [];
  for (let i = days - 1; i >= 0; i -= 1) labels.push(asDate.format(Date.UTC(today.year!, today.month! - 1, today.day! - i, 12)));
  // A day longer than 24 hours (autumn's) reaches further back than `days` times 24 hours.
  const since = now - (days + 1) * DAY_MS;
  const rows = await deps.db
    .selectFrom("audit")
    .select(["time", "event"])
    .where((eb) => eb.or([eb("event", "=", "enrolment.confirmed"), eb.and([eb("event", "in", ["user.created", "user.updated"]), eb("detail", "like", CREATED_ENROLLED_DETAIL)])]))
    .where("time", ">", since)
    .where("time", "<=", now)
    .execute();
  const counts = new Map(labels.map((l) => [l, { enrolled: 0, imported: 0 }]));
  for (const row of rows) {
    const day = counts.get(format.format(Number(row.time)));
    if (!day) continue;
    day.enrolled += 1;
    if (row.event !== "enrolment.confirmed") day.imported += 1;
  }
  return labels.map((day) => ({ day, ...counts.get(day)! }));
}

/**
 * Everything the Rollout page, the CSV, the gauges and `famos rollout status` show. Days end at
 * midnight in `timeZone`: FAMOS_TIMEZONE unless given (the console gives its reader's zone).
 */
export async function rolloutProgress(deps: Deps, options: { days?: number; timeZone?: string } = {}): Promise<RolloutProgress> {
  const now = deps.clock.now();
  const [rows, locked, disabled, plan, days] = await Promise.all([
    partnerCounts(deps.db),
    lockedUsersByPartner(deps, now),
    disabledUsersByPartner(deps.db),
    readPlan(deps.db),
    dailyEnrolments(deps, now, options.days ?? 14, options.timeZone ?? deps.config.timezone),
  ]);
  const partners = rows.map((r) => {
    const users = Number(r.users);
    const enrolled = Number(r.enrolled);
    const pending = Number(r.pending);
    return {
      partnerNumber: r.partner,
      startsAt: startInPlan(plan, r.partner),
      users,
      enrolled,
      pending,
      notStarted: users - enrolled - pending,
      locked: locked.get(r.partner) ?? 0,
      disabled: disabled.get(r.partner) ?? 0,
    };
  });
  const overall = partners.reduce<Figures>(
    (sum, p) => ({
      users: sum.users + p.users,
      enrolled: sum.enrolled + p.enrolled,
      pending: sum.pending + p.pending,
      notStarted: sum.notStarted + p.notStarted,
      locked: sum.locked + p.locked,
      disabled: sum.disabled + p.disabled,
    }),
    EMPTY,
  );
  return { overall, partners, days };
}

export const FIGURE_COLUMNS = ["users", "enrolled", "pending", "notStarted", "locked", "disabled"] as const;
