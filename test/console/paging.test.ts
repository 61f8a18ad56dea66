import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditMany } from "../../src/audit/audit.ts";
import { addUser } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * QA: a page number past the end of a console list (a link kept from last week, a typed
 * `?page=999999`) showed the audit trail's "No events match." and "Page 999999" with only a
 * Previous link, as if nothing had happened; "Find users" jumped to page 1 of a long number. Every
 * paged list now shows its last page and says so: "There is no page N: this is the last page, page M
 * of M.", its links keeping the filters.
 */
describe("a page past the end of a paged console list shows the last page and says so (over HTTP)", () => {
  let u: UnitApp;
  let agent: FormClient;
  const rows = (body: string) => (body.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1]?.match(/<tr>/g) ?? []).length;
  const status = (body: string) => body.match(/<(?:p|div)[^>]*role="status"[^>]*>[^<]*<\/(?:p|div)>/g)?.map((p) => p.replace(/<[^>]+>/g, "")) ?? [];

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const me = await addUser(u.deps, { role: "support", loginId: "paging.agent", email: "paging.agent@famos.test" });
    const inProcess = (await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps }, { user: me })).client;
    await u.app.listen({ host: "127.0.0.1", port: 0 });
    agent = new FormClient(overHttp(`http://127.0.0.1:${(u.app.server.address() as { port: number }).port}`));
    for (const [name, value] of inProcess.cookies) agent.cookies.set(name, value);
    // 120 failed passwords of one login ID: three pages of 50 in the trail (50, 50, 20).
    const failed = Array.from({ length: 120 }, () => ({ event: "password.failed" as const, actor: "paging.agent", subject: "paging.agent", ip: "10.7.7.7", userAgent: "qa", detail: {} }));
    await recordAuditMany(u.deps.db, u.clock.now() - 3_600_000, failed);
    for (let i = 0; i < 23; i += 1) await addUser(u.deps, { loginId: `paged${String(i).padStart(2, "0")}`, partnerNumber: "66601" });
  });
  afterAll(async () => u?.close());

  it("the audit trail: page 999999 of a filtered trail is its last page, said, with the filter kept in the links", async () => {
    const page = await agent.get("/support/audit?event=password.failed&page=999999");
    expect(page.statusCode).toBe(200);
    expect(rows(page.body)).toBe(20);
    expect(status(page.body)).toContain("There is no page 999999: this is the last page, page 3 of 3.");
    expect(page.body).not.toContain("No events match.");
    expect(page.body).toMatch(/<a href="\/support\/audit\?event=password.failed&amp;after=\d+&amp;page=2" rel="prev">/);
    expect(page.body).not.toContain('rel="next"');
    expect(page.body).toContain("<li>Page 3</li>");
    // The page that is there says nothing of the kind.
    const third = await agent.get("/support/audit?event=password.failed&page=3");
    expect(rows(third.body)).toBe(20);
    expect(third.body).not.toContain("There is no page");
  });

  it("the audit trail: Next and Previous continue from the page's last and first events (?before=, ?after=), the filter kept", async () => {
    const ids = (body: string) => [...body.matchAll(/<tr><td><time/g)].length;
    const link = (body: string, rel: string) => body.match(new RegExp(`<a href="([^"]+)" rel="${rel}">`))?.[1]?.replaceAll("&amp;", "&");
    const first = await agent.get("/support/audit?event=password.failed");
    expect(link(first.body, "prev")).toBeUndefined();
    const toSecond = link(first.body, "next")!;
    expect(toSecond).toMatch(/^\/support\/audit\?event=password.failed&before=\d+&page=2$/);
    const second = await agent.get(toSecond);
    expect(second.body).toContain("<li>Page 2</li>");
    expect(ids(second.body)).toBe(50);
    const third = await agent.get(link(second.body, "next")!);
    expect(third.body).toContain("<li>Page 3</li>");
    expect(rows(third.body)).toBe(20);
    expect(third.body).not.toContain('rel="next"');
    // Back: the same second page, then the first (no Previous link there).
    const back = await agent.get(link(third.body, "prev")!);
    expect(back.body.match(/<tbody>[\s\S]*<\/tbody>/)?.[0]).toBe(second.body.match(/<tbody>[\s\S]*<\/tbody>/)?.[0]);
    const top = await agent.get(link(back.body, "prev")!);
    expect(top.body).toContain("<li>Page 1</li>");
    expect(top.body).not.toContain('rel="prev"');
    // A row that is no number continues from nothing: the first page.
    expect((await agent.get("/support/audit?event=password.failed&before=abc")).body).toContain("<li>Page 1</li>");
  });

  it("the audit trail: a filter nothing matches says so, whatever the page, with no pager", async () => {
    const page = await agent.get("/support/audit?event=role.changed&page=7");
    expect(status(page.body)).toEqual(["No events match."]);
    expect(page.body).not.toContain('class="pager"');
  });

  it("the CSV export of a filtered trail holds every row of the filter, not a page; 'From' after 'Until' is refused, said once", async () => {
    const csv = await agent.get("/support/audit.csv?event=password.failed&page=2");
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.trim().split("\r\n");
    expect(lines).toHaveLength(121);
    expect(lines.slice(1).every((line) => line.includes('"password.failed"'))).toBe(true);
    const refused = await agent.get("/support/audit.csv?from=2026-11-28T10:00&until=2026-11-27T10:00");
    expect(refused.statusCode).toBe(400);
    expect(refused.body.match(/“From” is after “Until”/g)).toHaveLength(1);
  });

  it("Find users, Disabled alone (no search words): says how many users are disabled, not that they match “”", async () => {
    expect(status((await agent.get("/support?disabled=yes")).body)).toEqual(["No user is disabled."]);
    await u.deps.db.updateTable("users").set({ disabled_at: u.clock.now() }).where("login_id", "in", ["paged03", "paged04"]).execute();
    const page = await agent.get("/support?q=&disabled=yes");
    expect(status(page.body)).toEqual(["2 users are disabled."]);
    expect(page.body).toContain("paged03</a>");
    // With words, as before.
    expect(status((await agent.get("/support?q=paged04&disabled=yes")).body)).toEqual(["1 user matches “paged04” among the disabled."]);
    await u.deps.db.updateTable("users").set({ disabled_at: null }).where("login_id", "in", ["paged03", "paged04"]).execute();
  });

  it("Find users: a page past the end, however long its number, is the last page, said, the search kept", async () => {
    for (const asked of ["99", "9999999"]) {
      const page = await agent.get(`/support?q=66601&page=${asked}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain("paged22");
      expect(page.body).not.toContain("paged00<");
      expect(status(page.body)).toContain(`There is no page ${asked}: this is the last page, page 2 of 2.`);
      expect(page.body).toContain(`<a href="/support?q=66601&amp;page=1" rel="prev">`);
    }
    // Not a page number at all: the first page, nothing said.
    const first = await agent.get("/support?q=66601&page=two");
    expect(first.body).toContain("paged00<");
    expect(first.body).not.toContain("There is no page");
  });
});
