import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forwardCounts } from "../../src/bounce/forward-reports.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo } from "../../src/store/migrate.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "./dialects.ts";

const KEY = "j.smith@dealer.example";
const AT = 1_700_000_000_000;

/**
 * Migration 032: codes by address (lower(email)). A bounce asks whether a code to the address was
 * confirmed since the message (bounce/record-bounce.ts), a forward report whether one of its codes was
 * counted already (bounce/forward-reports.ts forwardCounts): each read the whole codes table, which
 * holds every code of the last session lifetime (bench/code-address-plans.ts: 86 ms on SQLite and
 * 137 ms on PostgreSQL at 200,000 codes, against 0.03 and 0.5 ms through the index).
 */
describe.each(DIALECTS)("migration 032 on %s: codes found by address", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await testDatabase(dialect, `codeaddr_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, "032-code-address-index");
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  /** The statements forwardCounts runs, and recordBounce's question, as they read codes. */
  async function codeReads(): Promise<string[]> {
    const { plugin, nodes } = captureStatements();
    await store.db.withPlugin(plugin).transaction().execute((tx) => forwardCounts(tx, AT, "o-1", { kind: "code.signin", recipient: KEY, created_at: AT }, 600_000));
    expect(nodes.length).toBeGreaterThan(0);
    // recordBounce's: its WHERE on codes as written there (inside the update of mail_addresses).
    const confirmedSince = store.db
      .selectFrom("codes")
      .select("codes.id")
      .where("codes.expires_at", ">", AT)
      .where("codes.consumed_at", ">=", AT)
      .where(sql<string>`lower(codes.email)`, "=", KEY);
    nodes.push(confirmedSince.toOperationNode());
    return (await Promise.all(nodes.map((node) => fullReads(store, node, ["codes"])))).flat();
  }

  /**
   * Migrated to `name`, on a connection opened afresh: SQLite's EXPLAIN QUERY PLAN of a statement kept by
   * its text (store/database.ts keeps prepared statements) is not prepared again after a schema change.
   */
  async function migratedTo(name: string): Promise<void> {
    await migrateTo(store, name);
    await store.close();
    store = openStore(database.url);
  }

  it("reads no codes table whole after it, and did before it (down)", async () => {
    expect(await codeReads()).toEqual([]);
    await migratedTo("031-forward-reports");
    expect((await codeReads()).length).toBeGreaterThan(0);
    await migratedTo("032-code-address-index");
    expect(await codeReads()).toEqual([]);
  });
});
