import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { migrateDatabase } from "../../src/store/migrate.ts";
import { POSTGRES_TEST_SERVER, postgresTestUrl, type PostgresTestSchema } from "./services.ts";

const run = promisify(execFile);

let template: Promise<string> | null = null;
/**
 * The DDL and rows of a schema migrated once per test process (a worker runs file after file:
 * `isolate: false`), as pg_dump writes them, with the schema's name replaced by a marker. Running the
 * 25 migrations through Kysely's migrator costs about a second a schema on this machine (its
 * introspection and one transaction per migration); replaying the dump is one round trip.
 */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const source = await postgresTestUrl("famos_template");
    try {
      await migrateDatabase(source.url);
      const url = new URL(POSTGRES_TEST_SERVER);
      const { stdout } = await run(
        "pg_dump",
        ["-h", url.hostname, "-p", url.port || "5432", "-U", url.username, "-d", url.pathname.slice(1), "-n", source.schema, "--inserts", "--no-owner", "--no-privileges"],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      // psql's meta-commands (pg_dump's \\restrict guard) are not SQL; every mention of the schema is an
      // identifier, its name (prefix, pid, random hex) occurs nowhere else.
      const sql = stdout
        .split("\n")
        .filter((line) => !line.startsWith("\\"))
        .join("\n");
      return sql.split(source.schema).join(MARKER);
    } finally {
      await source.drop();
    }
  })();
  template.catch(() => (template = null));
  return template;
}
const MARKER = `famos_template_marker_${randomBytes(4).toString("hex")}`;

/**
 * A fresh schema of its own on the local PostgreSQL (as postgresTestUrl), already migrated to the
 * latest migration: a copy of the template's tables, indexes, constraints and rows (the migrator's own
 * table included, so `famos serve`'s migrateDatabase on it finds nothing to do).
 */
export async function migratedPostgresTestUrl(prefix = "t"): Promise<PostgresTestSchema> {
  const ddl = await migratedTemplate();
  // The dump creates the schema itself: one connection, one round trip.
  return postgresTestUrl(prefix, (schema) => ddl.split(MARKER).join(schema));
}
