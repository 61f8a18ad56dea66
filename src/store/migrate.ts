import { Migrator, type Migration, type MigrationResultSet } from "kysely";
import type { Store } from "./database.ts";
import * as initial from "./migrations/001-initial.ts";

/** Listed here rather than read from disk, so a bundled or compiled build finds them too. */
const migrations: Record<string, Migration> = {
  "001-initial": initial,
};

export const LATEST_MIGRATION = Object.keys(migrations).sort().at(-1)!;

function migrator(store: Store): Migrator {
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: "famos_migration",
    migrationLockTableName: "famos_migration_lock",
  });
}

/** Brings the schema to the latest migration; throws with the failing migration's name. */
export async function migrateToLatest(store: Store): Promise<MigrationResultSet> {
  const result = await migrator(store).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}

/** True when every migration has been applied (the readiness check). */
export async function migrationsApplied(store: Store): Promise<boolean> {
  const list = await migrator(store).getMigrations();
  return list.every((m) => m.executedAt !== undefined);
}
