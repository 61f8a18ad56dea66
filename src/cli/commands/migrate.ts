import { Command } from "commander";
import { openStore } from "../../store/database.ts";
import { migrateToLatest } from "../../store/migrate.ts";
import { configOrExit, reachDatabase } from "../io.ts";

export function migrateCommand(): Command {
  return new Command("migrate").description("bring the database schema up to date (for deployment pipelines)").action(async () => {
    const config = configOrExit();
    const store = await reachDatabase(config.databaseUrl, () => openStore(config.databaseUrl));
    try {
      const result = await reachDatabase(config.databaseUrl, () => migrateToLatest(store));
      const applied = result.results?.filter((r) => r.status === "Success").map((r) => r.migrationName) ?? [];
      process.stderr.write(applied.length ? `Applied: ${applied.join(", ")}\n` : "The database is up to date.\n");
    } finally {
      await store.close();
    }
  });
}
