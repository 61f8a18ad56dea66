import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditMany } from "../../src/audit/audit.ts";
import { AUDIT_NUMBERED_PAGES, AUDIT_PAGE_SIZE, auditPage } from "../../src/support/audit-trail.ts";
import { addUser } from "../support/app.ts";
import { type FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * A typed `?page=N` is read by OFFSET: it reads and throws away every newer row (0.9 to 2.2 s at page
 * 2,000 on PostgreSQL). Numbered pages now stop at AUDIT_NUMBERED_PAGES; a number past it shows that
 * page and says that "Next page" goes on from there (keyset, as fast however deep). A trail shorter
 * than the bound still answers a page past its end with its last page, said, as before.
 */
describe("the audit trail's numbered pages are bounded", () => {
  let u: UnitApp;
  let agent: FormClient;
  const events = (n: number, event: "code.sent" | "code.expired") => Array.from({ length: n }, () => ({ event, actor: "limit.agent", subject: "limit.agent", ip: "10.7.7.8", userAgent: "qa", detail: {} }));
  const status = (body: string) => body.match(/<(?:p|div)[^>]*role="status"[^>]*>[^<]*<\/(?:p|div)>/g)?.map((p) => p.replace(/<[^>]+>/g, "").replaceAll("&quot;", '"')) ?? [];

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const me = await addUser(u.deps, { role: "support", loginId: "limit.agent", email: "limit.agent@famos.test" });
    agent = (await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps }, { user: me })).client;
    // Two pages more than the bound of code.sent; one page less and 20 rows of code.expired.
    await recordAuditMany(u.deps.db, u.clock.now() - 3_600_000, events((AUDIT_NUMBERED_PAGES + 2) * AUDIT_PAGE_SIZE, "code.sent"));
    await recordAuditMany(u.deps.db, u.clock.now() - 3_600_000, events((AUDIT_NUMBERED_PAGES - 1) * AUDIT_PAGE_SIZE + 20, "code.expired"));
  });
  afterAll(async () => u?.close());

  it("a number past the bound shows the bound's page, the same rows as asking for it, and says how to go on", async () => {
    expect(AUDIT_NUMBERED_PAGES).toBeGreaterThanOrEqual(10);
    expect(AUDIT_NUMBERED_PAGES).toBeLessThanOrEqual(100);
    const bound = await auditPage(u.deps.db, { event: "code.sent" }, { page: AUDIT_NUMBERED_PAGES });
    expect(bound.pageLimit).toBeNull();
    const deep = await auditPage(u.deps.db, { event: "code.sent" }, { page: 2_000 });
    expect(deep).toMatchObject({ page: AUDIT_NUMBERED_PAGES, hasNext: true, hasPrevious: true, pastEnd: null, pageLimit: { asked: 2_000, limit: AUDIT_NUMBERED_PAGES } });
    expect(deep.records.map((r) => r.id)).toEqual(bound.records.map((r) => r.id));
    // Next page from there goes on by keyset, past the bound.
    const next = await auditPage(u.deps.db, { event: "code.sent" }, { before: deep.records.at(-1)!.id, page: AUDIT_NUMBERED_PAGES + 1 });
    expect(next).toMatchObject({ page: AUDIT_NUMBERED_PAGES + 1, hasNext: true, pageLimit: null });
  });

  it("a trail shorter than the bound: a page past its end is its last page, said, as before", async () => {
    const past = await auditPage(u.deps.db, { event: "code.expired" }, { page: 999_999 });
    expect(past).toMatchObject({ page: AUDIT_NUMBERED_PAGES, hasNext: false, pastEnd: { asked: 999_999, pageCount: AUDIT_NUMBERED_PAGES }, pageLimit: null });
    expect(past.records).toHaveLength(20);
  });

  it("over HTTP: the page says it, in the reader's words, with the Next page link, the filter kept", async () => {
    const page = await agent.get("/support/audit?event=code.sent&page=2000");
    expect(page.statusCode).toBe(200);
    expect(status(page.body)).toContain(
      `Pages past ${AUDIT_NUMBERED_PAGES} do not open by number (page 2000 was asked for): this is page ${AUDIT_NUMBERED_PAGES}, and "Next page" goes on from here.`,
    );
    expect(page.body).toContain(`<li>Page ${AUDIT_NUMBERED_PAGES}</li>`);
    expect(page.body).toMatch(new RegExp(`<a href="/support/audit\\?event=code.sent&amp;before=\\d+&amp;page=${AUDIT_NUMBERED_PAGES + 1}" rel="next">`));
  });

  it.each([
    [AUDIT_NUMBERED_PAGES, "edge.exact"],
    [AUDIT_NUMBERED_PAGES + 1, "edge.onemore"],
  ])("a trail of exactly %i pages (a user's filter): the page past the bound is the last page, said, or the bound's page and how to go on", async (pages, user) => {
    const about = Array.from({ length: pages * AUDIT_PAGE_SIZE }, () => ({ event: "code.sent" as const, actor: user, subject: user, ip: "10.7.7.9", userAgent: "qa", detail: {} }));
    await recordAuditMany(u.deps.db, u.clock.now() - 1_800_000, about);
    const asked = await auditPage(u.deps.db, { user, event: "code.sent" }, { page: AUDIT_NUMBERED_PAGES + 1 });
    expect(asked.records).toHaveLength(AUDIT_PAGE_SIZE);
    expect(asked.records.every((r) => r.subject === user)).toBe(true);
    if (pages === AUDIT_NUMBERED_PAGES) {
      expect(asked).toMatchObject({ page: AUDIT_NUMBERED_PAGES, hasNext: false, pageLimit: null, pastEnd: { asked: AUDIT_NUMBERED_PAGES + 1, pageCount: AUDIT_NUMBERED_PAGES } });
    } else {
      expect(asked).toMatchObject({ page: AUDIT_NUMBERED_PAGES, hasNext: true, pastEnd: null, pageLimit: { asked: AUDIT_NUMBERED_PAGES + 1, limit: AUDIT_NUMBERED_PAGES } });
      const last = await auditPage(u.deps.db, { user, event: "code.sent" }, { before: asked.records.at(-1)!.id, page: AUDIT_NUMBERED_PAGES + 1 });
      expect(last).toMatchObject({ page: AUDIT_NUMBERED_PAGES + 1, hasNext: false });
      expect(last.records).toHaveLength(AUDIT_PAGE_SIZE);
    }
  });
});
