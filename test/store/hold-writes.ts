import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { openStore } from "../../src/store/database.ts";
import type { Database } from "../../src/store/schema.ts";

/**
 * PostgreSQL: racers made to meet. The test's own transaction locks `table` in SHARE mode: reads go on,
 * writes to it wait. Racers started meanwhile (real `famos` processes, given `env` so their connections
 * carry `application_name`) all read before any of them writes, and `waiting()` counts those of them
 * held at a lock; `release()` lets them go at once, each with what it read before.
 */
export async function holdWrites(url: string, table: keyof Database & string) {
  const name = `famos_race_${randomBytes(4).toString("hex")}`;
  const store = openStore(url);
  const trx = await store.db.startTransaction().execute();
  await sql`lock table ${sql.table(table)} in share mode`.execute(trx);
  let released = false;
  return {
    /** For the racers' environment: node-postgres names their connections after PGAPPNAME. */
    env: { PGAPPNAME: name },
    async waiting(): Promise<number> {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = ${name} and wait_event_type = 'Lock'`.execute(
        store.db,
      );
      return rows[0]!.n;
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      await trx.commit().execute();
      await store.close();
    },
  };
}

export type Hold = Awaited<ReturnType<typeof holdWrites>>;
