import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { isConnectionLost } from "../../src/store/setup-fault.ts";
import { POSTGRES_TEST_SERVER, postgresTestUrl, type PostgresTestSchema } from "../support/services.ts";
import { until } from "../support/until.ts";

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
    try {
      const outcome = store.db.transaction().execute(async (tx) => {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
        await admin.query("select pg_terminate_backend($1)", [pid]);
        await until(`backend ${pid} gone`, async () => (await admin.query("select 1 from pg_stat_activity where pid = $1", [pid])).rowCount === 0);
        // Let the client read the server's goodbye (FATAL 57P01 and the closed socket) while it holds no query.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`select 1`.execute(tx);
      });
      // As the command line tells it: a lost connection (src/cli/io.ts keepDatabase), not a fault of ours.
      const error = await outcome.then(() => null, (reason: unknown) => reason);
      expect(isConnectionLost(error), String(error)).toBe(true);
      expect(crashes).toEqual([]);
      expect((await sql<{ n: number }>`select 1 as n`.execute(store.db)).rows[0]!.n).toBe(1);
    } finally {
      process.off("uncaughtException", onCrash);
    }
  });
});
