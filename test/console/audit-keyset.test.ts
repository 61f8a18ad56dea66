import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { AUDIT_PAGE_SIZE, auditPage, auditRecords } from "../../src/support/audit-trail.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";

const ROWS = 3_000;

/**
 * The console's audit pager counted pages with OFFSET: page 2000 of a year's trail read and threw away
 * 99,950 rows first (0.9 to 2.2 s on PostgreSQL). Its Older and Newer links now carry the row they
 * continue from (`?before=<id>`, `?after=<id>`) and read the next 50 through audit_time, however deep;
 * `?page=N` links kept from before still work. Events of one millisecond (a batch of an import) are
 * told apart by id, so no row is skipped or shown twice.
 */
describe.each(DIALECTS)("the audit trail's keyset pages, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  let newestFirst: number[];

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `audit_keyset_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    // Three events to a millisecond, ids not in time order within the trail's last thousand.
    const rows = Array.from({ length: ROWS }, (_, i) => ({ time: 10_000 + Math.floor((i < 2_000 ? i : 4_999 - i) / 3), event: i % 2 ? "password.ok" : "code.sent", actor: `someone-${i % 70}`, subject: `someone-${i % 70}`, ip: "192.0.2.1", user_agent: "ua", detail: "{}" }));
    for (let i = 0; i < rows.length; i += 500) await store.db.insertInto("audit").values(rows.slice(i, i + 500)).execute();
    if (dialect === "postgres") await sql`analyze audit`.execute(store.db);
    newestFirst = [];
    for await (const r of auditRecords(store.db, {}, "desc")) newestFirst.push(r.id);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("Older from each page, from the first to the last, shows every event once, in the order of the page numbers", async () => {
    const seen: number[] = [];
    let view = await auditPage(store.db, {}, { page: 1 });
    for (let n = 1; ; n += 1) {
      expect(view.page).toBe(n);
      seen.push(...view.records.map((r) => r.id));
      if (!view.hasNext) break;
      view = await auditPage(store.db, {}, { before: view.records.at(-1)!.id, page: n + 1 });
    }
    expect(seen).toEqual(newestFirst);
    expect(view.page).toBe(Math.ceil(ROWS / AUDIT_PAGE_SIZE));
    // The same rows as the numbered page a link kept from before asks for.
    const third = await auditPage(store.db, {}, { page: 3 });
    expect(third.records.map((r) => r.id)).toEqual(newestFirst.slice(100, 150));
  });

  it("Newer goes back a page at a time, and from the second page to the first (50 rows, no Newer link)", async () => {
    const page5 = newestFirst.slice(200, 250);
    const back = await auditPage(store.db, {}, { after: newestFirst[250]!, page: 5 });
    expect(back.records.map((r) => r.id)).toEqual(page5);
    expect(back).toMatchObject({ page: 5, hasPrevious: true, hasNext: true });
    const first = await auditPage(store.db, {}, { after: newestFirst[30]!, page: 2 });
    expect(first.records.map((r) => r.id)).toEqual(newestFirst.slice(0, 50));
    expect(first).toMatchObject({ page: 1, hasPrevious: false, hasNext: true });
  });

  it("a deep Older or Newer page reads through audit_time, never the trail from its start", async () => {
    for (const at of [{ before: newestFirst[2_500]!, page: 51 }, { after: newestFirst[2_500]!, page: 50 }]) {
      const { plugin, nodes } = captureStatements();
      await auditPage(store.db.withPlugin(plugin), {}, at);
      const whole = (await Promise.all(nodes.map((node) => fullReads(store, node, ["audit"])))).flat();
      expect(whole).toEqual([]);
    }
  });

  it("past the end (Older of the last row, a row no longer kept, an id that never was): the last page, said", async () => {
    const last = newestFirst.slice(Math.floor((ROWS - 1) / AUDIT_PAGE_SIZE) * AUDIT_PAGE_SIZE);
    for (const before of [newestFirst.at(-1)!, 99_999_999]) {
      const view = await auditPage(store.db, {}, { before, page: 70 });
      expect(view.records.map((r) => r.id)).toEqual(last);
      expect(view).toMatchObject({ page: 60, hasNext: false, hasPrevious: true, pastEnd: { asked: 70, pageCount: 60 } });
    }
    // Newer of a row that never was: the first page.
    expect((await auditPage(store.db, {}, { after: 99_999_999, page: 4 })).records.map((r) => r.id)).toEqual(newestFirst.slice(0, 50));
  });
});
