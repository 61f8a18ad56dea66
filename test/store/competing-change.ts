import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type KyselyPlugin, type PluginTransformResultArgs, type QueryResult, type UnknownRow } from "kysely";
import type { Deps } from "../../src/app/deps.ts";
import type { Database } from "../../src/store/schema.ts";
import type { openInstances, TestDialect } from "./dialects.ts";

/**
 * Deps of the first instance for a flow under test, whose first statement result that `when` picks
 * waits for `change` to commit on another connection: a competing change made at a chosen moment of
 * the flow, deterministically (no sleeping). On PostgreSQL the first instance's pool with a plugin;
 * on SQLite a connection of its own to the file, through Kysely, since the server's connection runs
 * fixed queries on better-sqlite3 directly, past Kysely's plugins (src/store/prepared.ts). The
 * connections it opens are pushed to `opened`, for the caller to destroy.
 */
export function committingDuring(
  t: Awaited<ReturnType<typeof openInstances>>,
  dialect: TestDialect,
  opened: Kysely<Database>[],
  when: (rows: UnknownRow[]) => boolean,
  change: () => Promise<unknown>,
): { deps: Deps; changed: () => boolean } {
  let fired = false;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      if (!fired && when(args.result.rows)) {
        fired = true;
        await change();
      }
      return args.result;
    },
  };
  const a = t.deps[0]!;
  if (dialect === "postgres") return { deps: { ...a, db: a.db.withPlugin(plugin) }, changed: () => fired };
  const database = new SQLite(t.database.url.slice("sqlite:".length));
  database.pragma("busy_timeout = 5000");
  database.pragma("foreign_keys = ON");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }), plugins: [plugin] });
  opened.push(db);
  return { deps: { ...a, db }, changed: () => fired };
}
