import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql, type Kysely } from "kysely";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import type { Database } from "../../src/store/schema.ts";

let sqliteTemplate: Promise<string> | null = null;
/**
 * A SQLite file migrated once per test process (a worker runs file after file: `isolate: false`),
 * closed, so that its write-ahead log is in the file. Tests copy it (createTestApp, openInstances) or
 * its schema (migratedMemoryStore) rather than running the 25 migrations again for each database
 * (about 35 ms of CPU each); an app still calls migrateToLatest on its copy, as `famos serve` does on
 * a database already migrated.
 */
export function migratedSqliteTemplate(): Promise<string> {
  sqliteTemplate ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "famos-template-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "famos.db");
    const store = openStore(`sqlite:${path}`);
    await migrateToLatest(store);
    await store.close();
    return path;
  })();
  return sqliteTemplate;
}

const ORDER: Record<string, number> = { table: 0, index: 1, view: 2, trigger: 3 };

/**
 * Makes an empty SQLite database (an in-memory one) what the template is: its tables, then their rows
 * (the migrator's own included), then its indexes, views and triggers, each as the template's
 * sqlite_master states it.
 */
export async function copySqliteTemplate(db: Kysely<Database>): Promise<void> {
  const path = await migratedSqliteTemplate();
  await sql`ATTACH DATABASE ${path} AS famos_template`.execute(db);
  try {
    const { rows } = await sql<{ type: string; name: string; sql: string }>`SELECT type, name, sql FROM famos_template.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid`.execute(db);
    rows.sort((a, b) => (ORDER[a.type] ?? 9) - (ORDER[b.type] ?? 9));
    for (const row of rows) {
      if (row.type !== "table") continue;
      await sql.raw(row.sql).execute(db);
      await sql`INSERT INTO main.${sql.id(row.name)} SELECT * FROM famos_template.${sql.id(row.name)}`.execute(db);
    }
    for (const row of rows) if (row.type !== "table") await sql.raw(row.sql).execute(db);
  } finally {
    await sql`DETACH DATABASE famos_template`.execute(db);
  }
}
