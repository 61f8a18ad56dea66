import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type CompiledQuery, type DatabaseConnection, type Driver } from "kysely";
import type { Database } from "../../src/store/schema.ts";

/**
 * A Kysely whose statements are compiled for PostgreSQL and recorded, never sent (no server, no socket): for the
 * unit tier to pin what a rule asks of PostgreSQL alone (a row or advisory lock). Every statement answers no rows.
 */
export function recordedPostgres(): { db: Kysely<Database>; statements: CompiledQuery[] } {
  const statements: CompiledQuery[] = [];
  const connection: DatabaseConnection = {
    executeQuery: async <R>(query: CompiledQuery) => {
      statements.push(query);
      return { rows: [] as R[] };
    },
    streamQuery: () => {
      throw new Error("recordedPostgres streams nothing");
    },
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const db = new Kysely<Database>({
    dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => driver, createIntrospector: (k) => new PostgresIntrospector(k), createQueryCompiler: () => new PostgresQueryCompiler() },
  });
  return { db, statements };
}
