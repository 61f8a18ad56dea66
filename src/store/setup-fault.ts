/**
 * Faults of the database's setup rather than of FAMOS: a server not running or not reachable, a login
 * refused, a database or schema not made, a file that cannot be opened or is no database, a disk that
 * is full or read-only. A file fault counts only when opening the database's own file raised it. What an operator fixes in FAMOS_DATABASE_URL or on the database's side, so a
 * command tells it in a line instead of a stack trace (every other error is a fault of ours and keeps
 * its stack).
 */

/**
 * A SQLite file that could not be opened where FAMOS_DATABASE_URL says (store/database.ts): its
 * directory could not be made, or the file is no database. Told apart from other file faults (the
 * development secret's, say), which are not the database's.
 */
export class SqliteOpenFault extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "SqliteOpenFault";
  }
}

/**
 * A SQLite file or directory that this process may not read or write (file-access.ts): the message
 * says which, whose it is and what to do, so it is told as it is, with no advice added to it.
 */
export class SqliteAccessFault extends SqliteOpenFault {
  constructor(problem: string) {
    super(new Error(problem));
    this.name = "SqliteAccessFault";
  }
}

/** Node's system errors met while connecting to a database server. */
const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * node-postgres's errors, with no code, for a server that did not complete the connection's handshake
 * within connectionTimeoutMillis (database.ts): a host that takes the connection and never answers (a
 * hung server, a firewall or proxy that swallows it, a port that is something else's), or one that
 * drops it unanswered (pg-pool's wrapper, or pg's own client).
 */
const NO_HANDSHAKE = new Set(["Connection terminated due to connection timeout", "timeout expired"]);

/** A database server that could not be reached, or whose connection the network cut (NETWORK), or that never answered it (NO_HANDSHAKE). */
export function isUnreachable(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === undefined ? NO_HANDSHAKE.has(error.message) : NETWORK.has(code as string);
}

/** better-sqlite3's result codes (SQLITE_…; extended codes such as SQLITE_READONLY_DBMOVED share the prefix). */
const SQLITE = /^SQLITE_(CANTOPEN|NOTADB|READONLY|PERM|AUTH|IOERR|FULL|BUSY|CORRUPT)/;

/**
 * PostgreSQL's SQLSTATE (Appendix A): class 08 connection exception, 28 invalid authorization, 3D000
 * invalid catalog name (no such database), 3F000 no such schema, 42501 insufficient privilege, 53
 * insufficient resources (too many connections), 57P03 cannot connect now (starting up).
 */
const POSTGRES = /^(08|28|53)[0-9A-Z]{3}$|^(3D000|3F000|42501|57P03)$/;

export function isSetupFault(error: unknown): error is Error {
  if (error instanceof SqliteOpenFault) return true;
  if (isUnreachable(error)) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && (SQLITE.test(code) || POSTGRES.test(code));
}

/**
 * A connection the database server dropped while a command was using it: a restart or failover
 * (SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown), an administrator's pg_terminate_backend, and
 * node-postgres's own errors for a socket that closed under it, which carry no SQLSTATE (a transaction's
 * rollback on the dead connection reports the last of these, not the statement's error).
 */
const LOST = /^(Connection terminated( unexpectedly)?|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)$/;

export function isConnectionLost(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === "57P01" || code === "57P02") return true;
  return code === undefined && LOST.test(error.message);
}
