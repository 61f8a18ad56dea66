import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEARCH_NUMBERED_PAGES, SEARCH_PAGE_SIZE } from "../../src/support/search.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * "Find users" reads a numbered page by OFFSET, which reads and throws away every row before it: a
 * search that matches most of a large user table, asked for a page deep into it (a typed ?page=N, or
 * the last page of a long list), made the database walk the table. As the audit trail's pager does
 * (AUDIT_NUMBERED_PAGES), pages open by number only up to SEARCH_NUMBERED_PAGES; past it that page is
 * shown and says to narrow the search, with no Next link. Bad page numbers get the first page, no 5xx.
 */
describe("Find users opens pages by number only up to SEARCH_NUMBERED_PAGES", () => {
  let u: UnitApp;
  let agent: FormClient;
  const status = (body: string) => body.match(/<(?:p|div)[^>]*role="status"[^>]*>[^<]*<\/(?:p|div)>/g)?.map((p) => p.replace(/<[^>]+>/g, "")) ?? [];
  const loginIds = (body: string) => [...body.matchAll(/<a href="\/support\/users\/(?!new")[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
  // Two pages more than the bound opens by number.
  const count = (SEARCH_NUMBERED_PAGES + 2) * SEARCH_PAGE_SIZE;
  const id = (i: number) => `deep${String(i).padStart(4, "0")}`;

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const me = await addUser(u.deps, { role: "support", loginId: "deep.agent", email: "deep.agent@famos.test" });
    agent = (await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps }, { user: me })).client;
    for (let i = 0; i < count; i += 1) await addUser(u.deps, { loginId: id(i), partnerNumber: "77701" });
  });
  afterAll(async () => u?.close());

  it("a page past the bound shows the bound's page, says to narrow the search, and offers no Next page", async () => {
    expect(SEARCH_NUMBERED_PAGES).toBe(20);
    const pages = Math.ceil(count / SEARCH_PAGE_SIZE);
    for (const asked of [String(SEARCH_NUMBERED_PAGES + 1), String(pages), "999999"]) {
      const page = await agent.get(`/support?q=77701&page=${asked}`);
      expect(page.statusCode, asked).toBe(200);
      expect(loginIds(page.body), asked).toEqual(Array.from({ length: SEARCH_PAGE_SIZE }, (_, i) => id((SEARCH_NUMBERED_PAGES - 1) * SEARCH_PAGE_SIZE + i)));
      expect(status(page.body), asked).toContain(
        `Pages past ${SEARCH_NUMBERED_PAGES} do not open (page ${asked} was asked for): this is page ${SEARCH_NUMBERED_PAGES}. Add words to the search to narrow it.`,
      );
      expect(page.body, asked).toContain(`<li>Page ${SEARCH_NUMBERED_PAGES}</li>`);
      expect(page.body, asked).not.toContain('rel="next"');
      expect(page.body, asked).not.toContain("There is no page");
    }
    // The bound's own page says nothing, and has no Next link either.
    const last = await agent.get(`/support?q=77701&page=${SEARCH_NUMBERED_PAGES}`);
    expect(status(last.body).join(" ")).not.toContain("do not open");
    expect(last.body).not.toContain('rel="next"');
    expect(last.body).toContain(`rel="prev"`);
  });

  it("bad page numbers (negative, not a number, too long, zero) get the first page, no error", async () => {
    for (const asked of ["-1", "-999999", "abc", "1e9", "0", "99999999999999999999999", "%00", "1.5"]) {
      const page = await agent.get(`/support?q=77701&page=${encodeURIComponent(asked)}`);
      expect(page.statusCode, asked).toBe(200);
      expect(loginIds(page.body)[0], asked).toBe(id(0));
      expect(page.body, asked).toContain("<li>Page 1</li>");
    }
  });
});
