import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 17: every commit writes each b-tree page it changed to SQLite's write-ahead log, and each
// failure counter of a sign-in is written twice (reserved before its check, cleared after), so
// throttles_updated (003-lifecycle, kept by 010) cost 4 pages of log per sign-in for one reader: the
// retention job's hourly search for counters idle 30 days. Retention now walks the counters in key
// order, a bounded batch at a time (retention/cleanup.ts), on the table's own key: on SQLite the
// table's b-tree (WITHOUT ROWID, 010), on PostgreSQL throttles_pkey. The table holds only counters
// with failures not yet cleared or a lock, so the walk is short; locks.ts reads counters by key.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("throttles_updated").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("throttles_updated").on("throttles").column("updated_at").execute();
}
