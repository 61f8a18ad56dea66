import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { auditPage } from "../../src/support/audit-trail.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";

/**
 * The console's audit trail filtered by a login ID (and `famos audit --user`): one person's events
 * among months of 20,000 people's. Matching lower(subject) or lower(actor), which no index serves,
 * read the whole trail newest first for every page; the person's events must come through the
 * login-ID indexes (migration 015).
 */
describe.each(DIALECTS)("the audit trail of one login ID, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  const tag = `au${Date.now().toString(36)}${dialect}`;

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `audit_user_plan_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    const event = (time: number, actor: string, subject: string) => ({ time, event: "password.ok", actor, subject, ip: null, user_agent: null, detail: "{}" });
    await store.db
      .insertInto("audit")
      .values([event(1_000, `j.smith-${tag}`, `j.smith-${tag}`), event(2_000, "operator:root", `J.Smith-${tag}`), event(3_000, `J.SMITH-${tag}`, `other-${tag}`), event(4_000, `other-${tag}`, `other-${tag}`)])
      .execute();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("finds the events by or about the login ID through an index, in any case, newest first", async () => {
    const { plugin, nodes } = captureStatements();
    const page = await auditPage(store.db.withPlugin(plugin), { user: `J.Smith-${tag}` }, { page: 1 });
    expect(page.records.map((r) => r.time)).toEqual([3_000, 2_000, 1_000]);
    expect(nodes.length).toBeGreaterThan(0);
    const reads = await Promise.all(nodes.map((node) => fullReads(store, node, ["audit"])));
    expect(reads.flat()).toEqual([]);
  });
});
