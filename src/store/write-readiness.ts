import { performance } from "node:perf_hooks";
import { sql } from "kysely";
import type { Store } from "./database.ts";

/**
 * Faults that mean the database takes no writes at all until an operator acts, unlike a busy one
 * (database-unavailable.ts): SQLite's SQLITE_FULL (a full disk), SQLITE_IOERR_* (a failing or
 * vanished disk) and SQLITE_READONLY_* (a file system remounted read-only); PostgreSQL's SQLSTATE
 * (Appendix A) 53100 disk_full, 58030 io_error and 25006 read_only_sql_transaction (a standby after a
 * failover, or default_transaction_read_only).
 */
const SQLITE_CANNOT_WRITE = /^SQLITE_(FULL|IOERR|READONLY)(_[A-Z_]+)?$/;
const POSTGRES_CANNOT_WRITE = new Set(["53100", "58030", "25006"]);

export function isCannotWrite(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && (SQLITE_CANNOT_WRITE.test(code) || POSTGRES_CANNOT_WRITE.has(code));
}

/** How often, at most, /readyz writes to find out whether the database takes writes again. */
export const WRITE_PROBE_INTERVAL_MS = 5000;
/** A fault this soon after readiness returned is a relapse: the wait doubles, up to MAX_PROBE_INTERVAL_MS. */
export const RELAPSE_WITHIN_MS = 60_000;
export const MAX_PROBE_INTERVAL_MS = 60_000;

/**
 * Whether the database takes writes, for /readyz: an instance whose every sign-in fails on a full
 * disk must leave the load balancer's pool. It is fed by the outcome of real writes, so a healthy
 * instance's probes write nothing: a request that fails with a cannot-write fault makes it unready;
 * then a small write (probeWrite) at most every WRITE_PROBE_INTERVAL_MS, however often /readyz is
 * asked, makes it ready again once one succeeds. The interval is measured on the monotonic clock,
 * which a wall-clock jump does not move.
 *
 * A nearly full disk takes the probe's one page and refuses a sign-in's fifty: readiness returned, the
 * load balancer sent users again, and a sign-in failed, every interval. So a fault within
 * RELAPSE_WITHIN_MS of readiness returning doubles the interval (up to MAX_PROBE_INTERVAL_MS), and one
 * after a longer healthy spell starts it again from its base.
 */
export class WriteReadiness {
  #faulted = false;
  #probedAt = Number.NEGATIVE_INFINITY;
  #readyAgainAt = Number.NEGATIVE_INFINITY;
  #waitMs: number;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = WRITE_PROBE_INTERVAL_MS,
  ) {
    this.#waitMs = intervalMs;
  }

  /**
   * Told of every failed request's error; only cannot-write faults count. The first probe waits an
   * interval after the last fault, so a fault the probe cannot see (PostgreSQL's full disk) still
   * keeps the instance out of the pool for that long.
   */
  noteFault(error: unknown): void {
    if (!isCannotWrite(error)) return;
    const now = this.now();
    if (!this.#faulted) {
      const relapse = now - this.#readyAgainAt < RELAPSE_WITHIN_MS;
      this.#waitMs = relapse ? Math.min(this.#waitMs * 2, Math.max(MAX_PROBE_INTERVAL_MS, this.intervalMs)) : this.intervalMs;
    }
    this.#faulted = true;
    this.#probedAt = now;
  }

  async takesWrites(): Promise<boolean> {
    if (!this.#faulted) return true;
    const now = this.now();
    if (now - this.#probedAt < this.#waitMs) return false;
    this.#probedAt = now;
    try {
      await this.probe();
      this.#faulted = false;
      this.#readyAgainAt = this.now();
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The smallest write that reaches the disk. SQLite: the header's user_version, which FAMOS leaves at 0,
 * written back unchanged: one page appended to the write-ahead log, which fails as the sign-ins' writes
 * do when the log cannot grow (an UPDATE that changes nothing writes nothing). A pragma takes no
 * parameter and no query text is built from values (security/input "ASVS 5.3.4"), so should another
 * tool have set user_version, nothing is written and readiness returns an interval after the last
 * fault, as on PostgreSQL. PostgreSQL: a transaction id, which a read-only server refuses; a full data
 * disk is seen by the real writes only, so readiness there returns an interval after the last.
 */
export async function probeWrite(store: Store): Promise<void> {
  if (store.dialect === "postgres") {
    await sql`select txid_current()`.execute(store.db);
    return;
  }
  const { rows } = await sql<{ user_version: number }>`pragma user_version`.execute(store.db);
  if ((rows[0]?.user_version ?? 0) === 0) await sql`pragma user_version = 0`.execute(store.db);
}
