import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";

/**
 * One instance at a time runs a periodic job: the one whose conditional update took the lease. A
 * crashed holder's lease simply runs out. Works alike on SQLite and PostgreSQL, with no connection
 * held for the job's length (a PostgreSQL advisory lock would pin one from the pool).
 */
export async function claimLease(db: Kysely<Database>, name: string, holder: string, now: number, forMs: number): Promise<boolean> {
  const result = await db
    .updateTable("job_leases")
    .set({ holder, lease_until: now + forMs })
    .where("name", "=", name)
    .where((eb) => eb.or([eb("lease_until", "<=", now), eb("holder", "=", holder)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseLease(db: Kysely<Database>, name: string, holder: string): Promise<void> {
  await db.updateTable("job_leases").set({ lease_until: 0 }).where("name", "=", name).where("holder", "=", holder).execute();
}
