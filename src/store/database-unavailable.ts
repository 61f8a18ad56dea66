import { isConnectionLost, isUnreachable } from "./setup-fault.ts";
import { ConnectionGivenUp, isUnanswered } from "./statement-bound.ts";

/**
 * PostgreSQL's SQLSTATE (Appendix A) for a server that is there but cannot serve this request now:
 * 57014 query_canceled (statement_timeout, statement-bound.ts: a lock held elsewhere, an overloaded
 * server), 25P03 idle_in_transaction_session_timeout (the transaction was ended while its client was
 * cut off), 57P03 cannot_connect_now (starting up, or in recovery), 53300 too_many_connections.
 * Shutdowns (57P01, 57P02) are isConnectionLost's. Not 40P01 deadlock_detected: every transaction
 * takes its locks in one order (take-turns.ts), so a deadlock is a fault of ours to fix, and a 500.
 * Not 40001 serialization_failure: it cannot arise at READ COMMITTED, where every transaction runs.
 */
const POSTGRES_BUSY = new Set(["57014", "25P03", "57P03", "53300"]);

/**
 * node-postgres's error, with no code, for a connection it could not have within
 * connectionTimeoutMillis because none of the pool's came free (pg-pool). A server that did not
 * complete the handshake in that time is isUnreachable's.
 */
const NO_CONNECTION = "timeout exceeded when trying to connect";

/**
 * better-sqlite3's result codes for a file another connection is writing (the command line, an
 * operator's shell) past the busy timeout (database.ts), extended codes included (SQLITE_BUSY_SNAPSHOT:
 * a read transaction overtaken by another's commit cannot become a write).
 */
const SQLITE_BUSY = /^SQLITE_(BUSY|LOCKED)(_[A-Z]+)?$/;

/**
 * The database is temporarily unavailable: it did not answer in time, refused a connection, dropped
 * it, or another writer held it. The request's transaction was rolled back (or never begun), so the
 * same request may succeed in a moment: web/errors.ts answers 503 with Retry-After. Anything else is
 * a fault of ours or of the data.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { message } = error;
  const code = (error as { code?: unknown }).code;
  if (error instanceof ConnectionGivenUp || isUnanswered(error) || isConnectionLost(error) || isUnreachable(error)) return true;
  if (typeof code === "string") return POSTGRES_BUSY.has(code) || SQLITE_BUSY.test(code);
  return message === NO_CONNECTION;
}
