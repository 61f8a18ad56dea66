import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type KyselyPlugin, type PluginTransformResultArgs, type QueryResult, type UnknownRow } from "kysely";
import type { Deps } from "../../src/app/deps.ts";
import type { Database } from "../../src/store/schema.ts";
import { afterAll, beforeAll } from "vitest";
import { openInstances, type TestDialect } from "./dialects.ts";

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

/**
 * A describe block's two instances on one migrated database (openInstances) for tests of competing
 * changes: `t` once they are open, and `during(when, change)` as committingDuring on them. Opens them
 * before the block's tests; closes them, and the connections `during` opened, after.
 */
export function useCompeting(dialect: TestDialect, prefix: string) {
  let instances: Awaited<ReturnType<typeof openInstances>> | undefined;
  const opened: Kysely<Database>[] = [];
  beforeAll(async () => {
    instances = await openInstances(dialect, 2, `${prefix}_${dialect}`);
  });
  afterAll(async () => {
    for (const db of opened) await db.destroy();
    await instances?.close();
  });
  return {
    get t() {
      if (!instances) throw new Error("the instances are opened in beforeAll");
      return instances;
    },
    during(when: (rows: UnknownRow[]) => boolean, change: () => Promise<unknown>) {
      return committingDuring(this.t, dialect, opened, when, change);
    },
  };
}
