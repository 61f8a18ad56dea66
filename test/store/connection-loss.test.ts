import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { isConnectionLost } from "../../src/store/setup-fault.ts";
import { POSTGRES_TEST_SERVER, postgresTestUrl, type PostgresTestSchema } from "../support/services.ts";

/**
 * A PostgreSQL connection lost while the store holds it (a restart, a failover, an administrator's
 * pg_terminate_backend) in the middle of a transaction, between two statements: an import's batch, a
 * sign-in's steps. The transaction fails like any database fault, and the process goes on.
 */
describe("a PostgreSQL connection lost in the middle of a transaction", () => {
  let schema: PostgresTestSchema;
  let store: Store;
  let admin: pg.Client;
  beforeAll(async () => {
    schema = await postgresTestUrl("connection_loss");
    store = openStore(schema.url);
    admin = new pg.Client({ connectionString: POSTGRES_TEST_SERVER });
    await admin.connect();
  });
  afterAll(async () => {
    await store?.close();
    await admin?.end();
    await schema?.drop();
  });

  it("fails that transaction only: no unhandled error ends the process, and the next query runs", async () => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on("uncaughtException", onCrash);
    // The store's connections (the pool's pg.Client), each with its end: the socket closed under it.
    const ends = new Map<number, Promise<unknown>>();
    const query = pg.Client.prototype.query;
    const seen = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const id = (this as pg.Client & { processID: number }).processID;
      // Not events.once: it rejects at the client's 'error' (the goodbye), which comes first.
      if (!ends.has(id)) ends.set(id, new Promise((resolve) => this.once("end", resolve)));
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query);
    try {
      const outcome = store.db.transaction().execute(async (tx) => {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
        await admin.query("select pg_terminate_backend($1)", [pid]);
        // The client has read the server's goodbye (FATAL 57P01 and the closed socket) while it holds no query.
        expect(ends.has(pid)).toBe(true);
        await ends.get(pid);
        await sql`select 1`.execute(tx);
      });
      // As the command line tells it: a lost connection (src/cli/io.ts keepDatabase), not a fault of ours.
      const error = await outcome.then(() => null, (reason: unknown) => reason);
      expect(isConnectionLost(error), String(error)).toBe(true);
      expect(crashes).toEqual([]);
      expect((await sql<{ n: number }>`select 1 as n`.execute(store.db)).rows[0]!.n).toBe(1);
    } finally {
      seen.mockRestore();
      process.off("uncaughtException", onCrash);
    }
  });
});
