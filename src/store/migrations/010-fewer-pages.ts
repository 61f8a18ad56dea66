import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 17: every commit writes each b-tree page it changed to SQLite's write-ahead log.
//
// Throttles (SQLite only): a counter is written on each password and code check (the reserve
// before, the clear after), so its three b-trees (rows by rowid, the key's index, updated_at) took
// 12 pages per sign-in. A table WITHOUT ROWID keeps its rows in the key's b-tree itself, one b-tree
// less. PostgreSQL tables have no rowid: nothing to change there.
//
// outbox_sent holds sent mail only (both dialects), so a message enters it once, when it is sent, not
// also when it is queued. Its one reader, the retention job's delete of mail sent before a cutoff
// (`state = 'sent' AND sent_at < ? ORDER BY sent_at`), implies `sent_at IS NOT NULL`, and with the
// state first it is an index range in order: SQLite chose outbox_due (state) for it before, reading
// and sorting every sent message in each batch, and never read outbox_sent at all.
//
// codes_expires goes (both dialects): no statement reads codes by expiry. Retention deletes codes
// with their flows (codes_flow), and a code's expiry is read from its row, found by its flow.
const THROTTLE_COLUMNS = ["key", "failures", "locked_until", "hard_locked", "updated_at", "window_started_at"] as const;

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) await rebuildThrottles(db, "without rowid");
  await db.schema.dropIndex("outbox_sent").execute();
  await db.schema.createIndex("outbox_sent").on("outbox").columns(["state", "sent_at"]).where(sql.ref("sent_at"), "is not", null).execute();
  await db.schema.dropIndex("codes_expires").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("codes_expires").on("codes").column("expires_at").execute();
  await db.schema.dropIndex("outbox_sent").ifExists().execute();
  await db.schema.createIndex("outbox_sent").on("outbox").column("sent_at").execute();
  if (!isPostgres(db)) await rebuildThrottles(db, "rowid");
}

/**
 * SQLite changes a table's storage only by building it anew (sqlite.org/lang_altertable.html, "other
 * kinds of table schema changes"): a new table, the rows copied, the old one dropped, the new one
 * renamed. Every migration runs in a transaction of its own (store/database.ts), so a crash in between
 * leaves the old table as it was. No view, trigger or foreign key names throttles.
 */
async function rebuildThrottles(tx: Kysely<any>, as: "without rowid" | "rowid"): Promise<void> {
  // As 001 and 002 made it (a key that is the primary key is never null: NOT NULL says so here).
  await tx.schema
    .createTable("throttles_rebuilt")
    .addColumn("key", "text", (c) => c.primaryKey().notNull())
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked_until", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("hard_locked", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "integer", (c) => c.notNull())
    .addColumn("window_started_at", "integer", (c) => c.notNull().defaultTo(0))
    .modifyEnd(as === "without rowid" ? sql`WITHOUT ROWID` : sql``)
    .execute();
  await tx.insertInto("throttles_rebuilt").columns([...THROTTLE_COLUMNS]).expression(tx.selectFrom("throttles").select([...THROTTLE_COLUMNS])).execute();
  await tx.schema.dropTable("throttles").execute();
  await tx.schema.alterTable("throttles_rebuilt").renameTo("throttles").execute();
  // Retention deletes idle counters in index ranges of updated_at (003-lifecycle).
  await tx.schema.createIndex("throttles_updated").on("throttles").column("updated_at").execute();
}

function isPostgres(db: Kysely<any>): boolean {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
