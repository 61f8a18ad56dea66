import { sql, type CreateTableBuilder, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 17 (round 34): a sign-in inserts one flow, one code and, at its code step, one device. Each of
// these tables is keyed by a text id, so SQLite kept its rows in a rowid b-tree and the id in an index
// of its own beside it (sqlite_autoindex_<table>_1): a page more of write-ahead log per insert, about
// 3.4 of the 55 pages a sign-in writes (bench/app-cpu.ts --pages). A table WITHOUT ROWID keeps its rows
// in the id's b-tree itself (sqlite.org/withoutrowid.html), as 010 did for the throttles; the rows are
// small (a code's is its HMAC, an address and a few integers), the case that page recommends it for.
// Nothing reads these tables by rowid. PostgreSQL tables have no rowid: nothing to change there.
type Storage = "without rowid" | "rowid";

const FLOW_COLUMNS = ["id", "user_id", "kind", "email", "created_at", "codes_sent", "last_code_at", "finished_at", "return_to"] as const;
const CODE_COLUMNS = ["id", "flow_id", "user_id", "code_hash", "email", "outbox_id", "created_at", "expires_at", "tries", "consumed_at", "voided_at", "void_reason"] as const;
const DEVICE_COLUMNS = ["id", "login_key", "created_at", "last_used_at", "revoked_at"] as const;

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) await rebuild(db, "without rowid");
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) await rebuild(db, "rowid");
}

/**
 * SQLite changes a table's storage only by building it anew (sqlite.org/lang_altertable.html, "other
 * kinds of table schema changes"): a new table as 001–027 left it, the rows copied, the old one
 * dropped, the new one renamed, its indexes made again. The migration's transaction (store/database.ts)
 * makes it all or nothing. Foreign keys stay on inside it, and dropping a table deletes its rows first:
 * dropping flows while codes refers to it would delete every code (ON DELETE CASCADE). So the codes wait
 * in a temporary copy without constraints while flows is rebuilt, and come back last.
 */
async function rebuild(db: Kysely<any>, as: Storage): Promise<void> {
  await db.schema.createTable("famos_codes_kept").temporary().as(db.selectFrom("codes").select([...CODE_COLUMNS])).execute();
  await db.schema.dropTable("codes").execute();

  await storage(flowsTable(db.schema.createTable("flows_rebuilt")), as).execute();
  await db.insertInto("flows_rebuilt").columns([...FLOW_COLUMNS]).expression(db.selectFrom("flows").select([...FLOW_COLUMNS])).execute();
  await db.schema.dropTable("flows").execute();
  await db.schema.alterTable("flows_rebuilt").renameTo("flows").execute();
  await db.schema.createIndex("flows_user").on("flows").columns(["user_id", "created_at"]).execute();
  await db.schema.createIndex("flows_created").on("flows").column("created_at").execute();

  await storage(devicesTable(db.schema.createTable("devices_rebuilt")), as).execute();
  await db.insertInto("devices_rebuilt").columns([...DEVICE_COLUMNS]).expression(db.selectFrom("devices").select([...DEVICE_COLUMNS])).execute();
  await db.schema.dropTable("devices").execute();
  await db.schema.alterTable("devices_rebuilt").renameTo("devices").execute();
  await db.schema.createIndex("devices_login").on("devices").columns(["login_key", "revoked_at"]).execute();
  await db.schema.createIndex("devices_last_used").on("devices").column("last_used_at").execute();

  await storage(codesTable(db.schema.createTable("codes")), as).execute();
  await db.insertInto("codes").columns([...CODE_COLUMNS]).expression(db.selectFrom("famos_codes_kept").select([...CODE_COLUMNS])).execute();
  await db.schema.dropTable("famos_codes_kept").execute();
  await db.schema.createIndex("codes_flow").on("codes").columns(["flow_id", "created_at"]).execute();
  await db.schema.createIndex("codes_user").on("codes").columns(["user_id", "created_at"]).execute();
}

function storage(table: CreateTableBuilder<string, never>, as: Storage): CreateTableBuilder<string, never> {
  return as === "without rowid" ? table.modifyEnd(sql`WITHOUT ROWID`) : table;
}

// The three tables as 001, 002 and 003 made them (a key that is the primary key is never null: NOT NULL
// says so, as WITHOUT ROWID requires).
function flowsTable(table: CreateTableBuilder<string, never>): CreateTableBuilder<string, never> {
  return table
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("codes_sent", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_code_at", "integer")
    .addColumn("finished_at", "integer")
    .addColumn("return_to", "text");
}

function codesTable(table: CreateTableBuilder<string, never>): CreateTableBuilder<string, never> {
  return table
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("flow_id", "text", (c) => c.notNull().references("flows.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("outbox_id", "text")
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("expires_at", "integer", (c) => c.notNull())
    .addColumn("tries", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("consumed_at", "integer")
    .addColumn("voided_at", "integer")
    .addColumn("void_reason", "text");
}

function devicesTable(table: CreateTableBuilder<string, never>): CreateTableBuilder<string, never> {
  return table
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("login_key", "text", (c) => c.notNull())
    .addColumn("created_at", "integer", (c) => c.notNull())
    .addColumn("last_used_at", "integer", (c) => c.notNull())
    .addColumn("revoked_at", "integer");
}

function isPostgres(db: Kysely<any>): boolean {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
