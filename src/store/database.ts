import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { CompiledQuery, Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, type DialectAdapter, type Driver } from "kysely";
import { createRequire } from "node:module";
import type pgTypes from "pg";
import { Kept } from "../platform/kept.ts";
import { runPreparedDirectly } from "./prepared.ts";
import { checkpointInBackground, type BackgroundCheckpoints, type CheckpointOptions } from "./checkpoints.ts";
import type { Database } from "./schema.ts";
import { databaseUrlProblem } from "./database-url.ts";
import { emptyDatabaseProblem, sqliteAccessProblem, sqliteFilePath } from "./file-access.ts";
import { SqliteAccessFault, SqliteOpenFault } from "./setup-fault.ts";
import { givingUpUnanswered, statementBounds } from "./statement-bound.ts";

export type Dialect = "sqlite" | "postgres";

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL: the schema named by `?schema=`, else null (the server's search_path decides). */
  schema: string | null;
  /** SQLite file opened with `backgroundCheckpoints`: the thread that checkpoints it (checkpoints.ts). */
  checkpoints?: BackgroundCheckpoints;
  close(): Promise<void>;
}

export interface StoreOptions {
  /**
   * SQLite (a file): checkpoint the write-ahead log on a thread of its own instead of in the commits of
   * the serving connection (`famos serve`; checkpoints.ts). Commands that run and end keep SQLite's way.
   */
  backgroundCheckpoints?: CheckpointOptions;
  /**
   * PostgreSQL: no statement, connection or idle transaction takes longer than this (statement-bound.ts;
   * `famos serve` and `famos doctor`, FAMOS_DATABASE_TIMEOUT). The other commands leave it unset: an
   * import's batches, a migration's index builds and a cleanup's deletes may run longer than a request.
   * SQLite runs in the process and cannot be cut off: there it bounds the wait for the write lock
   * another process holds (the busy timeout, SQLITE_BUSY_TIMEOUT_MS without it).
   */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL: how long opening a connection may take (a host that takes it and never answers) before
   * the command gives up with a setup fault (setup-fault.ts); DATABASE_CONNECTION_TIMEOUT_MS without it.
   * statementTimeoutMs, when given, bounds the connection as well, in its place.
   */
  connectionTimeoutMs?: number;
}

/** A database that does not answer fails a command in seconds, not minutes (StoreOptions.connectionTimeoutMs). */
export const DATABASE_CONNECTION_TIMEOUT_MS = 5000;

/**
 * Opens `sqlite:<path>` (":memory:" for tests) or `postgres://…`. A PostgreSQL URL may carry
 * `?schema=name` to keep the tables in their own schema (used by tests and by shared servers).
 */
export function openStore(url: string, options: StoreOptions = {}): Store {
  const path = sqliteFilePath(url);
  if (path !== null) return openSqlite(path, options);
  return openPostgres(url, options);
}

/**
 * How long a command waits for SQLite's write lock while another process holds it (an import while
 * `famos serve` writes) before SQLITE_BUSY: the same 5 s `famos serve` waits by default
 * (FAMOS_DATABASE_TIMEOUT).
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** The SQL function every SQLite connection of FAMOS has for lower-casing beyond ASCII. */
export const SQLITE_UNICODE_LOWER = "famos_lower";

/**
 * The file, made ready: its directory, the connection, and the settings below. A fault here is the
 * setup's (a directory that cannot be made, a file that is no database, a disk that is read-only), told
 * as such (SqliteOpenFault) so the command line names the database instead of printing a stack.
 */
function openSqliteFile(path: string, busyMs = SQLITE_BUSY_TIMEOUT_MS): SQLite.Database {
  let database: SQLite.Database | undefined;
  try {
    // Before mkdir and SQLite: mkdir would say only "EACCES … mkdir", and SQLite would open a file this
    // process may only read without a word, and fail at the first write (a sign-in, in the middle of a
    // request), or say only "unable to open database file".
    const access = sqliteAccessProblem(path) ?? emptyDatabaseProblem(path);
    if (access !== null) throw new SqliteAccessFault(access);
    // A database FAMOS makes is its owner's alone, whatever the umask (0644 under a shell's 022): it holds
    // every password hash, name, address and the audit trail. Made 0600 before SQLite makes its -wal and
    // -shm files, which take the database file's mode; a directory made here is 0700. What exists keeps its mode.
    const made = path !== ":memory:" && path !== "" && !existsSync(path);
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    database = new SQLite(path);
    if (made) chmodSync(path, 0o600);
    // WAL lets readers proceed while a writer commits; the busy timeout covers a second process
    // (the command line) writing at the same time as the server.
    database.pragma("journal_mode = WAL");
    database.pragma("synchronous = NORMAL");
    database.pragma("foreign_keys = ON");
    database.pragma(`busy_timeout = ${Math.round(busyMs)}`);
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection, which a growing database
    // fills: after 10,000 sign-ins it was a tenth of the server's resident memory (issue 17). A
    // sign-in reads a few dozen pages (index roots and inner pages, its own rows, the newest pages
    // of the append-mostly tables), which 4 MB keeps; a page read beyond it comes from the
    // operating system's file cache, a few microseconds.
    database.pragma("cache_size = -4096");
    // SQLite's lower() folds ASCII only ("Özge" stays "Özge"); PostgreSQL's folds every script. Queries
    // that must fold any letter (Find users) call this one, JavaScript's, on SQLite (see unicodeLower).
    database.function(SQLITE_UNICODE_LOWER, { deterministic: true }, (text: unknown) => (typeof text === "string" ? text.toLowerCase() : text));
    return database;
  } catch (error) {
    database?.close();
    throw error instanceof SqliteOpenFault ? error : new SqliteOpenFault(error);
  }
}

function openSqlite(path: string, options: StoreOptions): Store {
  const database = openSqliteFile(path, options.statementTimeoutMs);
  cachePreparedStatements(database);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(database) });
  runPreparedDirectly(db, database);
  const checkpoints = options.backgroundCheckpoints && path !== ":memory:" ? checkpointInBackground(database, path, options.backgroundCheckpoints) : undefined;
  return {
    db,
    dialect: "sqlite",
    schema: null,
    ...(checkpoints ? { checkpoints } : {}),
    // The thread's connection closes first: the last connection to close checkpoints what is left.
    close: async () => {
      await checkpoints?.stop();
      await db.destroy();
    },
  };
}

/**
 * Every transaction begins IMMEDIATE: it takes SQLite's write lock at its start, waiting for it as
 * long as the busy timeout allows. Kysely's plain BEGIN takes it at the first write instead, and a
 * transaction that has read by then (each one reads the row it changes first) is not let wait there:
 * SQLite answers SQLITE_BUSY at once when another process (`famos serve` signing someone in, a
 * command) holds the lock at that moment, or has committed since the read. Every transaction FAMOS
 * runs writes, so none takes the lock it would not need; the migrator's, which need not, runs only
 * when a migration is pending (migrate.ts), so a command's reads still answer beside a writer.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly database: SQLite.Database) {
    super({ database });
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw("begin immediate"));
    };
    // SQLite rolls a transaction back by itself on some faults (SQLITE_FULL, SQLITE_IOERR: a full
    // disk); Kysely's ROLLBACK then failed with "no transaction is active", and that error replaced
    // the fault in the log and for /readyz (write-readiness.ts), so nothing said the disk was full.
    driver.rollbackTransaction = async (connection) => {
      if (this.database.inTransaction) await connection.executeQuery(CompiledQuery.raw("rollback"));
    };
    return driver;
  }
}

/**
 * SQLite's schema changes are transactional, but Kysely's adapter says they are not, so its migrator
 * ran each migration statement by statement: one stopped half-way (a full disk, a kill, a power cut)
 * kept the tables it had made, and every later start failed on them ("table users already exists").
 * With this, each migration is one transaction (BEGIN IMMEDIATE, above), kept whole or not at all.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Kysely prepares every query anew; compiling SQL in SQLite costs more than running these small
 * queries, so statements are kept by their text. Safe because better-sqlite3 runs one statement at a
 * time on this connection and re-prepares by itself after a schema change.
 */
function cachePreparedStatements(database: SQLite.Database): void {
  const prepare = database.prepare.bind(database);
  // Queries are built from a fixed set of shapes; the bound keeps a misuse from growing it forever.
  const cache = new Kept<string, SQLite.Statement>(1000);
  database.prepare = ((sql: string) => cache.get(sql, prepare)) as typeof database.prepare;
}

function openPostgres(url: string, { statementTimeoutMs, connectionTimeoutMs = DATABASE_CONNECTION_TIMEOUT_MS }: StoreOptions): Store {
  // Loaded only for PostgreSQL, so a SQLite installation does not carry the driver in memory.
  const pg = createRequire(import.meta.url)("pg") as typeof pgTypes;
  const problem = databaseUrlProblem(url);
  if (problem !== null) throw new Error(`FAMOS_DATABASE_URL ${problem}`);
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 10,
    // A database that does not answer fails a command in seconds, not minutes; the server bounds
    // its statements, too.
    connectionTimeoutMillis: connectionTimeoutMs,
    ...(statementTimeoutMs === undefined ? {} : statementBounds(statementTimeoutMs)),
    // The search path is a startup parameter of every connection, so no query can ever run before it
    // is set (a per-connection "SET search_path" issued after connecting races the first query and,
    // if it fails, silently leaves the connection on "public"). `famos migrate` creates the schema.
    ...(schema !== null ? { options: `-c search_path=${schema}` } : {}),
    types: {
      // Times are stored as bigint; every value fits a JavaScript number exactly.
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that the server drops (restart, failover) is reported here; without a
  // listener the event would end the process. The pool replaces the connection on the next query.
  pool.on("error", () => undefined);
  // A connection dropped while it is checked out (a transaction between two statements: an import's
  // batch, a sign-in's steps) reports on the client itself, where the pool listens only while it is
  // idle: without this the process ended with a stack trace. The next statement on it fails ("not
  // queryable"), so the transaction fails like any database fault, and the pool discards it.
  pool.on("connect", (client) => client.on("error", () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: statementTimeoutMs === undefined ? pool : givingUpUnanswered(pool) }) });
  return { db, dialect: "postgres", schema, close: () => db.destroy() };
}
