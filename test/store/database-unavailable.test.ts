import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/database.ts";
import { isDatabaseUnavailable } from "../../src/store/database-unavailable.ts";
import { freezableRelay } from "../support/relay.ts";
import { POSTGRES_TEST_SERVER } from "../support/services.ts";
import { until } from "../support/until.ts";

/** The error `work` fails with (a test of an error that did not come is a failure). */
async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

/** A port nothing listens on: a database server that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * What "the database is temporarily unavailable" is (a 503 and "try again in a moment", web/errors.ts),
 * told from the errors the drivers really raise: each is made happen against the machine's PostgreSQL
 * or a SQLite file, not written by hand, except where only the server's own state could raise it.
 */
describe("a database temporarily unavailable", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "famos-unavailable-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("PostgreSQL cancelled a statement at statement_timeout (57014)", async () => {
    const client = new pg.Client({ connectionString: POSTGRES_TEST_SERVER, statement_timeout: 20 });
    await client.connect();
    try {
      const error = await failure(() => client.query("select pg_sleep(1)"));
      expect(error).toMatchObject({ code: "57014" });
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await client.end();
    }
  });

  it("PostgreSQL ended a transaction left idle (25P03), and the client's next statement on it", async () => {
    const client = new pg.Client({ connectionString: POSTGRES_TEST_SERVER, idle_in_transaction_session_timeout: 20 });
    const told: unknown[] = [];
    client.on("error", (error) => told.push(error));
    await client.connect();
    const ended = once(client, "error");
    await client.query("begin");
    // The server's own idle timeout ends it: its FATAL arrives on the client while it holds no query.
    await ended;
    const next = await failure(() => client.query("select 1"));
    expect(told[0]).toMatchObject({ code: "25P03" });
    expect(isDatabaseUnavailable(told[0])).toBe(true);
    expect(isDatabaseUnavailable(next)).toBe(true);
  });

  it("PostgreSQL was shut down under a running statement (57P01), and the server's other refusals", async () => {
    const admin = new pg.Client(POSTGRES_TEST_SERVER);
    const client = new pg.Client(POSTGRES_TEST_SERVER);
    client.on("error", () => undefined);
    await Promise.all([admin.connect(), client.connect()]);
    try {
      const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
      const running = failure(() => client.query("select pg_sleep(5)"));
      // Terminated under the running statement: once the server shows it running, not after a guessed while.
      await until("the statement to run", async () => (await admin.query("select 1 from pg_stat_activity where pid = $1 and state = 'active' and query like 'select pg_sleep%'", [pid])).rowCount === 1);
      await admin.query("select pg_terminate_backend($1)", [pid]);
      const error = await running;
      expect(error).toMatchObject({ code: "57P01" });
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await admin.end();
    }
    // A crash's shutdown, a server starting up, and max_connections reached: the server's own state,
    // so pg's own error class with the SQLSTATE it would carry.
    for (const code of ["57P02", "57P03", "53300"]) {
      const error = Object.assign(new pg.DatabaseError("the server refused", 0, "error"), { code });
      expect(isDatabaseUnavailable(error), code).toBe(true);
    }
  });

  it("no PostgreSQL listening (ECONNREFUSED), a server that never answers the connection, and a pool with no connection free", async () => {
    const port = await closedPort();
    const refused = new pg.Pool({ host: "127.0.0.1", port, user: "postgres", database: "test" });
    expect(isDatabaseUnavailable(await failure(() => refused.query("select 1")))).toBe(true);
    await refused.end();

    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const mute = new pg.Pool({ host: "127.0.0.1", port: (silent.address() as { port: number }).port, user: "postgres", database: "test", connectionTimeoutMillis: 50 });
    const timedOut = await failure(() => mute.query("select 1"));
    expect(timedOut).toMatchObject({ message: "Connection terminated due to connection timeout" });
    expect(isDatabaseUnavailable(timedOut)).toBe(true);
    await mute.end();
    silent.close();

    const full = new pg.Pool({ connectionString: POSTGRES_TEST_SERVER, max: 1, connectionTimeoutMillis: 50 });
    // A loaded machine may take longer than the bound to make the one connection: tried until it is made.
    const held = await until("the pool's one connection", () => full.connect());
    const waited = await failure(() => full.connect());
    expect(waited).toMatchObject({ message: "timeout exceeded when trying to connect" });
    expect(isDatabaseUnavailable(waited)).toBe(true);
    held.release();
    await full.end();
  });

  it("a statement PostgreSQL left unanswered within FAMOS_DATABASE_TIMEOUT, and the connection given up after it", async () => {
    const relay = await freezableRelay("127.0.0.1", 5432);
    const store = openStore(`postgres://postgres@${relay.host}:${relay.port}/test`, { statementTimeoutMs: 200 });
    try {
      // The connection the transaction will use, made however long a loaded machine takes.
      await until("a connection through the relay", () => sql`select 1`.execute(store.db));
      relay.freezeWhen("cut off here");
      const errors: unknown[] = [];
      await store.db
        .transaction()
        .execute(async (tx) => {
          await sql`select 'cut off here'`.execute(tx).catch((error: unknown) => {
            errors.push(error);
            throw error;
          });
        })
        .catch((error: unknown) => errors.push(error));
      expect(errors.map((error) => (error as Error).message)).toEqual([
        "Query read timeout",
        "the database left a statement on this connection unanswered; the connection is given up",
      ]);
      for (const error of errors) expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      relay.thaw();
      await store.close();
      await relay.close();
    }
  });

  it("a SQLite file another connection is writing, past the busy timeout (SQLITE_BUSY), and a locked table (SQLITE_LOCKED)", () => {
    const path = join(dir, "busy.db");
    const writer = new SQLite(path);
    const waiter = new SQLite(path);
    try {
      writer.pragma("journal_mode = WAL");
      writer.exec("create table t (id integer)");
      waiter.pragma("busy_timeout = 20");
      writer.exec("begin immediate");
      const busy = (() => {
        try {
          waiter.prepare("insert into t values (1)").run();
        } catch (error) {
          return error;
        }
      })();
      writer.exec("rollback");
      expect(busy).toMatchObject({ code: "SQLITE_BUSY" });
      expect(isDatabaseUnavailable(busy)).toBe(true);
    } finally {
      writer.close();
      waiter.close();
    }
    // better-sqlite3 refuses the one way a connection of its own could meet a locked table; SQLite's
    // shared cache (other connections of the process) would raise it.
    for (const code of ["SQLITE_LOCKED", "SQLITE_LOCKED_SHAREDCACHE", "SQLITE_BUSY_SNAPSHOT"]) {
      expect(isDatabaseUnavailable(new SQLite.SqliteError("database table is locked", code)), code).toBe(true);
    }
  });

  it("not: a fault of ours or of the data, which stays a 500 and a stack in the log", async () => {
    const client = new pg.Client(POSTGRES_TEST_SERVER);
    await client.connect();
    try {
      await client.query("create temp table once (id int primary key)");
      await client.query("insert into once values (1)");
      expect(isDatabaseUnavailable(await failure(() => client.query("insert into once values (1)")))).toBe(false);
      expect(isDatabaseUnavailable(await failure(() => client.query("select nonsense from nowhere")))).toBe(false);
    } finally {
      await client.end();
    }
    const sqlite = new SQLite(":memory:");
    const missing = (() => {
      try {
        sqlite.prepare("insert into nowhere values (1)").run();
      } catch (error) {
        return error;
      }
    })();
    sqlite.close();
    expect(missing).toMatchObject({ code: "SQLITE_ERROR" });
    expect(isDatabaseUnavailable(missing)).toBe(false);
    // A deadlock is a fault of our lock order (store/take-turns.ts), not a busy database; serialization
    // failures cannot arise at READ COMMITTED, which every transaction here runs at.
    for (const code of ["40P01", "40001"]) {
      expect(isDatabaseUnavailable(Object.assign(new pg.DatabaseError("deadlock detected", 0, "error"), { code })), code).toBe(false);
    }
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isDatabaseUnavailable(new Error("timeout"))).toBe(false);
    expect(isDatabaseUnavailable("ECONNREFUSED")).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
