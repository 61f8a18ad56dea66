import { PostgresAdapter, sql, type Kysely } from "kysely";
import { counterKey } from "../../src/regulation/counter-key.ts";
import type { Database } from "../../src/store/schema.ts";

/**
 * The tables of the database that snapshot leaves out, each with why. Every other table the database
 * has is read, as the database lists them: a table a new migration adds is in every "stores nothing"
 * check at once (snapshot.test.ts fails until its self-test has rows for it), and a name here that the
 * database does not have fails that test too.
 */
export const TABLES_LEFT_OUT: Readonly<Record<string, string>> = {
  // The migrator's record of the migrations run, and its lock: written by a start, never by a request.
  famos_migration: "the migrator's own",
  famos_migration_lock: "the migrator's own",
  // SQLite's counter of AUTOINCREMENT ids (the audit trail's): an audit row added shows in audit itself.
  sqlite_sequence: "SQLite's own",
};

/**
 * Every table FAMOS keeps (or those of `tables`), each as its rows in a stable order, one JSON object
 * (keys sorted) a line: "nothing stored" is equality of two of these, and a failed comparison's diff
 * names the rows added or removed (a changed row is one of each). The database writes the text in one
 * statement a table (no row crosses to JavaScript as an object), so taking it stays cheap when the
 * audit trail has grown to thousands of rows; snapshot.test.ts shows it sees every kind of change.
 */
export async function snapshot(db: Kysely<Database>, tables?: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const postgres = isPostgres(db);
  for (const table of tables ?? (await snapshotTables(db))) {
    const { columns, key } = await shapeOf(db, table);
    const pairs = sql.join(columns.map((c) => sql`${sql.lit(c)}, ${sql.ref(c)}`));
    const row = postgres ? sql<string>`json_build_object(${pairs})::text` : sql<string>`json_object(${pairs})`;
    // In the order of the primary key, which is in each row's text: the same rows give the same text.
    // (A table without one, SQLite's audit_gate, in the order of the rows' text.)
    const order = key.length > 0 ? sql.join(key.map((c) => sql.ref(c))) : row;
    const all = postgres ? sql<string>`string_agg(${row}, E'\\n' ORDER BY ${order})` : sql<string>`group_concat(${row}, char(10) ORDER BY ${order})`;
    let query = db.selectFrom(table as keyof Database).select(all.as("text"));
    // A support person's count of console changes (regulation/console-actions.ts): a refused change
    // gives its count back, but the counter's row (its window) stays: regulation, not input stored.
    if (table === "throttles") query = query.where(sql<boolean>`substr(${sql.ref("key")}, 1, ${CONSOLE_COUNTER.length}) <> ${CONSOLE_COUNTER}`);
    // The audit trail's CSV download records who took it (audit.exported): a safe method may log its
    // request (RFC 9110 §9.2.1); the trail it reads, and everything else, stays as it was.
    if (table === "audit") query = query.where(sql<boolean>`${sql.ref("event")} <> 'audit.exported'`);
    const { text } = await query.executeTakeFirstOrThrow();
    out[table] = text ?? "";
  }
  return out;
}

const CONSOLE_COUNTER = counterKey.consoleActor("");

/**
 * The columns snapshot keeps of a table, when not all of them. The mail sender updates the outbox's
 * delivery columns in the background; what was queued is what counts.
 */
const COLUMNS_KEPT: Readonly<Record<string, readonly string[]>> = { outbox: ["id", "kind", "recipient", "subject"] };

/** The tables snapshot reads: the database's own list (its current schema's), less TABLES_LEFT_OUT. */
export async function snapshotTables(db: Kysely<Database>): Promise<string[]> {
  return (await databaseTables(db)).filter((table) => !(table in TABLES_LEFT_OUT));
}

/** Every table of the database (of the current schema on PostgreSQL), sorted, read once a database. */
const tableLists = new WeakMap<Kysely<Database>, Promise<string[]>>();
export function databaseTables(db: Kysely<Database>): Promise<string[]> {
  let tables = tableLists.get(db);
  if (!tables) {
    const query = isPostgres(db)
      ? sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
      : sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`;
    tables = query.execute(db).then((result) => result.rows.map((r) => r.name).sort());
    tableLists.set(db, tables);
  }
  return tables;
}

/** A table's columns (sorted: the keys of snapshot's rows) and its primary key's, read once a database. */
const shapes = new WeakMap<Kysely<Database>, Map<string, Promise<{ columns: string[]; key: string[] }>>>();
function shapeOf(db: Kysely<Database>, table: string): Promise<{ columns: string[]; key: string[] }> {
  const known = shapes.get(db) ?? new Map<string, Promise<{ columns: string[]; key: string[] }>>();
  shapes.set(db, known);
  let shape = known.get(table);
  if (!shape) {
    shape = readShape(db, table);
    known.set(table, shape);
  }
  return shape;
}

async function readShape(db: Kysely<Database>, table: string): Promise<{ columns: string[]; key: string[] }> {
  const postgres = isPostgres(db);
  const columns = postgres
    ? await sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`.execute(db)
    : await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`.execute(db);
  const key = postgres
    ? await sql<{ name: string }>`SELECT k.column_name AS name FROM information_schema.table_constraints c
        JOIN information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name AND k.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.table_name = ${table} AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position`.execute(db)
    : await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table}) WHERE pk > 0 ORDER BY pk`.execute(db);
  const all = columns.rows.map((r) => r.name).sort();
  if (all.length === 0) throw new Error(`snapshot: no table ${table}`);
  const kept = COLUMNS_KEPT[table];
  return { columns: kept ? all.filter((c) => kept.includes(c)) : all, key: key.rows.map((r) => r.name) };
}

function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
