import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// throttles.lock_in_flight: 1 while the lock in force was put there by an attempt counted before its
// password or code was verified and not yet found wrong (src/regulation/counter.ts reserves first), 0
// once it was (or for a lock counted after the verdict). A burst of sign-ins with the right password
// meets such a lock: the page then says "too many at once", not "after repeated failures", and the
// refusal is audited apart (regulation/throttle.ts). The lock refuses the same either way. No index:
// it is read with its counter's row.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("throttles")
    .addColumn("lock_in_flight", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("throttles").dropColumn("lock_in_flight").execute();
}
