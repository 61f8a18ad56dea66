import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { addUser, listen, type TestApp } from "../support/app.ts";
import { useBrowser } from "../support/browser-app.ts";
import { expectAccessible } from "../support/browser.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * The cells of the page's tables with a word broken over lines: their text on more lines than it has
 * places to break (spaces, and hyphens: "Anmelde-ID" may break after its hyphen), read from the text's
 * own line boxes (a button's box is not a line of its own).
 */
const brokenCells = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("main th, main td")].flatMap((cell) => {
      const text = (cell.textContent ?? "").trim();
      const parts = text.split(/\s+|(?<=-)/).filter(Boolean).length;
      if (parts === 0) return [];
      const tops = new Set<number>();
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
      }
      return tops.size > parts ? [`${text.replace(/\s+/g, " ")}: ${tops.size} lines`] : [];
    }),
  );

/**
 * A dealer's staff on a phone (360 px) reading Profile's "Your sessions", and retail IT reading a
 * user's page, the audit trail and search results, in every language: the tables' words were broken
 * letter by letter to squeeze five to seven columns into the window ("Últim/a/activi/dad",
 * "Chrom/e en Linux", a login ID as "st/af/f./nl", an address as "12/7./0./0./1"). A table now keeps
 * its words whole and scrolls sideways in a named region of its own when it is wider than the
 * window (WCAG 1.4.10's data-table case, as Rollout's figures), the page itself never.
 */
describe("tables on a phone keep their words whole, in every language", () => {
  const chromium = useBrowser();
  let u: UnitApp;
  let base: string;
  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    base = await listen(u as unknown as TestApp);
  });
  afterAll(async () => {
    await u?.close();
  });

  it("on Profile, a user's page, the audit trail and search, at 360 px", async () => {
    const admin = await addUser(u.deps, { role: "admin", loginId: "it.desk", email: "it.desk@retail.example" });
    const target = await addUser(u.deps, { loginId: "staff.narrow", fullName: "Jana Schmidt", email: "sales@dealer.example" });
    await signIn({ mailbox: u.mailbox }, { user: target, client: new FormClient(overHttp(base)) });
    const { created_at } = await u.deps.db.selectFrom("outbox").select("created_at").where("user_id", "=", target.id).executeTakeFirstOrThrow();
    await u.deps.db.updateTable("outbox").set({ state: "sent", sent_at: created_at + 2000 }).where("user_id", "=", target.id).execute();
    // Two sessions of the admin: Profile lists the other one with its "End" button.
    await signIn({ mailbox: u.mailbox }, { user: admin, client: new FormClient(overHttp(base)) });
    const client = new FormClient(overHttp(base));
    await signIn({ mailbox: u.mailbox }, { user: admin, client });

    const page = await chromium.newPage({ viewport: { width: 360, height: 740 } });
    await page.context().addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: base })));
    const problems: string[] = [];
    for (const locale of LOCALES) {
      await u.deps.db.updateTable("users").set({ locale }).where("id", "=", admin.id).execute();
      for (const path of ["/profile", `/support/users/${target.id}`, "/support/audit", "/support?q=staff"]) {
        await page.goto(`${base}${path}`);
        const where = `${locale} ${path}`;
        expect(await page.getAttribute("html", "lang"), where).toBe(locale);
        for (const cell of await brokenCells(page)) problems.push(`${where}: ${cell}`);
        const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (sideways > 0) problems.push(`${where}: the page scrolls ${sideways} px sideways`);
        // A region that scrolls is named and reachable by keyboard (axe's scrollable-region-focusable); one language is enough.
        if (locale === "de") await expectAccessible(page);
      }
    }
    expect(problems, problems.join("\n")).toEqual([]);
  }, 120_000);
});
