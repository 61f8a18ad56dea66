import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// The Rollout page's "locked" figure finds each kind's login counters by a range of the key (022,
// src/regulation/counter-key.ts), but a password-spraying run leaves a counter inside that range for
// every login ID it tried (a few wrong passwords, never a lock) until the cleanup job removes it, and
// the figure read them all to find the few locked. This index holds only the counters that have ever
// locked (a lock in force, run out, or until support unlocks it): src/rollout/progress.ts asks the
// same condition, written alike (literal values: SQLite takes a partial index only for terms that
// match its WHERE as written), so both databases read these counters alone. A fragment without
// parameters (sql, never sql.raw: security/input's ASVS 5.3.4 check), as migration 016's.
export const EVER_LOCKED = sql<boolean>`hard_locked = 1 or locked_until > 0`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("throttles_ever_locked").on("throttles").column("key").where(EVER_LOCKED).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("throttles_ever_locked").ifExists().execute();
}
