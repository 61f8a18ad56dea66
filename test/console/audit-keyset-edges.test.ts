import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditMany } from "../../src/audit/audit.ts";
import { addUser } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { AUDIT_PAGE_SIZE, auditPage, auditRecords } from "../../src/support/audit-trail.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";

const ROWS = 260;

/**
 * Review of the keyset pager (?before=<id>, ?after=<id>): a link whose row the retention job removed
 * between two clicks, or a link typed by hand, must never show one page under another's number.
 */
describe.each(DIALECTS)("the audit pager's keyset links at the edges, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  let newestFirst: number[];
  const pageCount = Math.ceil(ROWS / AUDIT_PAGE_SIZE);

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `audit_keyset_edges_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    // Two events to a millisecond.
    const rows = Array.from({ length: ROWS }, (_, i) => ({ time: 50_000 + Math.floor(i / 2), event: i % 3 ? "password.ok" : "code.sent", actor: `who-${i % 7}`, subject: `who-${i % 7}`, ip: null, user_agent: null, detail: "{}" }));
    await store.db.insertInto("audit").values(rows).execute();
    newestFirst = [];
    for await (const r of auditRecords(store.db, {}, "desc")) newestFirst.push(r.id);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("Older of a row no longer kept, from an early page number: the last page under the last page's number, not under the number the link carried", async () => {
    const gone = Math.max(...newestFirst) + 1_000;
    const view = await auditPage(store.db, {}, { before: gone, page: 2 });
    expect(view.records.map((r) => r.id)).toEqual(newestFirst.slice((pageCount - 1) * AUDIT_PAGE_SIZE));
    expect(view).toMatchObject({ page: pageCount, hasNext: false, hasPrevious: true });
  });

  it("Older of the oldest row, carrying a number within the trail: the last page, numbered as the last", async () => {
    const view = await auditPage(store.db, {}, { before: newestFirst.at(-1)!, page: 3 });
    expect(view).toMatchObject({ page: pageCount, hasNext: false, hasPrevious: true });
  });

  it("a filter is kept by the keyset reads, both ways, and a cursor row outside the filter still places the page", async () => {
    const filter = { event: "code.sent" };
    const all: number[] = [];
    for await (const r of auditRecords(store.db, filter, "desc")) all.push(r.id);
    const first = await auditPage(store.db, filter, { page: 1 });
    const second = await auditPage(store.db, filter, { before: first.records.at(-1)!.id, page: 2 });
    expect(second.records.map((r) => r.id)).toEqual(all.slice(AUDIT_PAGE_SIZE, 2 * AUDIT_PAGE_SIZE));
    expect(second.records.every((r) => r.event === "code.sent")).toBe(true);
    const back = await auditPage(store.db, filter, { after: second.records[0]!.id, page: 1 });
    expect(back.records.map((r) => r.id)).toEqual(all.slice(0, AUDIT_PAGE_SIZE));
    // A password.ok row as cursor: the code.sent rows older than it.
    const outside = newestFirst[10]!;
    const from = await auditPage(store.db, filter, { before: outside, page: 2 });
    const index = newestFirst.indexOf(outside);
    const olderCodes = newestFirst.slice(index + 1).filter((id) => all.includes(id));
    expect(from.records.map((r) => r.id)).toEqual(olderCodes.slice(0, AUDIT_PAGE_SIZE));
  });

  it("both links, a huge id, and a huge page number: an answer, never a failure", async () => {
    for (const at of [{ before: 999_999_999_999_999, page: 1_000_000_000 }, { after: 999_999_999_999_999, page: 1_000_000_000 }, { before: newestFirst[60]!, after: newestFirst[5]!, page: 7 }]) {
      const view = await auditPage(store.db, {}, at);
      expect(view.records.length).toBeGreaterThan(0);
    }
  });
});

describe("the audit pager's links over HTTP: odd values get a page, the filter rides along", () => {
  let u: UnitApp;
  let agent: FormClient;

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const me = await addUser(u.deps, { role: "support", loginId: "edges.agent", email: "edges.agent@famos.test" });
    agent = (await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps }, { user: me })).client;
    const failed = Array.from({ length: 120 }, () => ({ event: "password.failed" as const, actor: "edges.agent", subject: "edges.agent", ip: "10.7.7.8", userAgent: "qa", detail: {} }));
    await recordAuditMany(u.deps.db, u.clock.now() - 3_600_000, failed);
  });
  afterAll(async () => u?.close());

  it("hostile before/after/page values: 200 and a page, never a failure", async () => {
    const odd = ["before=-5", "before=1e9", "before=99999999999999999999", "after=0x10", "before=abc&after=xyz", "before=1&after=2&page=-3", "before=999999999999999&page=999999999999999", "before[]=1", "before=1&before=2", "page=1&before="];
    for (const q of odd) {
      const page = await agent.get(`/support/audit?event=password.failed&${q}`);
      expect([q, page.statusCode]).toEqual([q, 200]);
      expect(page.body).toContain("<tbody>");
    }
  });

  it("Next and Previous keep both the user and the event filter", async () => {
    const link = (body: string, rel: string) => body.match(new RegExp(`<a href="([^"]+)" rel="${rel}">`))?.[1]?.replaceAll("&amp;", "&");
    const first = await agent.get("/support/audit?user=EDGES.AGENT&event=password.failed");
    const next = link(first.body, "next")!;
    expect(next).toMatch(/user=EDGES.AGENT&event=password.failed&before=\d+&page=2/);
    const second = await agent.get(next);
    expect(link(second.body, "prev")).toMatch(/user=EDGES.AGENT&event=password.failed&after=\d+&page=1/);
    expect(link(second.body, "next")).toMatch(/user=EDGES.AGENT&event=password.failed&before=\d+&page=3/);
  });
});
