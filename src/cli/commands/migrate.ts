import { Command } from "commander";
import { migrationKeys } from "../../app/services.ts";
import { migrateDatabase } from "../../store/migrate.ts";
import { configOrExit, reachDatabase } from "../io.ts";

export function migrateCommand(): Command {
  return new Command("migrate").description("bring the database schema up to date (for deployment pipelines)").action(async () => {
    const config = configOrExit();
    const result = await reachDatabase(config.databaseUrl, () => migrateDatabase(config.databaseUrl, migrationKeys(config), { connectionTimeoutMs: config.databaseTimeoutMs }));
    const applied = result.results?.filter((r) => r.status === "Success").map((r) => r.migrationName) ?? [];
    process.stderr.write(applied.length ? `Applied: ${applied.join(", ")}\n` : "The database is up to date.\n");
  });
}
