import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, listen, type TestApp } from "../support/app.ts";
import { useBrowser } from "../support/browser-app.ts";
import { expectAccessible } from "../support/browser.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * The cells (`selector`) with a word broken over lines: their text on more lines than it has places
 * to break (spaces, and with `hyphens` after a hyphen: "Anmelde-ID"), read from the text's own line
 * boxes (a button's box is not a line of its own).
 */
const brokenCells = (page: Page, selector: string, hyphens: boolean) =>
  page.evaluate(([selector, hyphens]) =>
    [...document.querySelectorAll(selector)].flatMap((cell) => {
      const text = (cell.textContent ?? "").trim();
      const parts = text.split(hyphens ? /\s+|(?<=-)/ : /\s+/).filter(Boolean).length;
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
  [selector, hyphens] as const);

/**
 * Issue 16: the console in German passes axe in Chromium (lang="de", long German labels in tables
 * and buttons) and fits a 320 px window (WCAG 1.4.10 Reflow: nothing scrolls sideways, the console's
 * own navigation included). Two pages with the most text: a user's page and Rollout. The session
 * comes from a sign-in over real HTTP; its cookies are handed to the browser.
 */
describe("the support console in German and every other language, in Chromium", () => {
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

  /** A sign-in of `user` over HTTP, its code mail marked sent: their page then has rows in its tables (sessions, mail, audit), each time with its ISO form. */
  async function signedInWithSentMail(user: Awaited<ReturnType<typeof addUser>>): Promise<void> {
    await signIn({ mailbox: u.mailbox }, { user, client: new FormClient(overHttp(base)) });
    const { created_at } = await u.deps.db.selectFrom("outbox").select("created_at").where("user_id", "=", user.id).executeTakeFirstOrThrow();
    await u.deps.db.updateTable("outbox").set({ state: "sent", sent_at: created_at + 2000 }).where("user_id", "=", user.id).execute();
  }

  it("passes axe on a user's page and on Rollout, in German, and fits 320 px", async () => {
    const admin = await addUser(u.deps, { role: "admin", loginId: "konsole.de", email: "konsole.de@famos.test" });
    const target = await addUser(u.deps, { loginId: "ziel.de", fullName: "Jana Schmidt", email: "jana.schmidt@autohaus.example" });
    await signedInWithSentMail(target);
    const client = new FormClient(overHttp(base));
    await signIn({ mailbox: u.mailbox }, { user: admin, client });
    expect((await client.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);

    const page = await chromium.newPage({ viewport: { width: 320, height: 700 } });
    await page.context().addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: base })));
    for (const [path, heading] of [
      [`/support/users/${target.id}`, "Benutzer ziel.de"],
      ["/support/rollout", "Einführung"],
      ["/support/audit", "Prüfprotokoll"],
    ] as const) {
      await page.goto(`${base}${path}`);
      expect(await page.getAttribute("html", "lang")).toBe("de");
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(heading);
      await expectAccessible(page);
      // Every link of the console's navigation is on the screen, none pushed off to the right.
      const offScreen = await page.evaluate(() =>
        [...document.querySelectorAll("nav a")].filter((a) => a.getBoundingClientRect().right > window.innerWidth).map((a) => a.textContent),
      );
      expect(offScreen, path).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), path).toBeLessThanOrEqual(0);
      // A user's facts (long German labels beside short values) leave each value room to be read:
      // not squeezed to a few pixels, one letter a line, by a labels column as wide as the window.
      const narrowest = await page.evaluate(() => Math.min(...[...document.querySelectorAll("dl.facts dd")].map((dd) => dd.getBoundingClientRect().width)));
      expect(narrowest, path).toBeGreaterThanOrEqual(120);
    }
  });

  /**
   * Rollout's charts and the figures beside them, in every language, on a wide screen and a phone:
   * each bar's words ("1 ingeschreven, 0 in behandeling, 1 niet begonnen") were cut off at the chart's
   * edge in every language but English, and the figures table beside the chart was squeezed to a few
   * pixels a column even at 1280 px, a partner number broken over three lines ("01/23/4").
   */
  it("shows every word of the charts inside them, no two overlapping, and breaks no word of the figures, at 1280 and 375 px", async () => {
    const admin = await addUser(u.deps, { role: "admin", partnerNumber: "04711" });
    await addUser(u.deps, { partnerNumber: "04711", email: null });
    await addUser(u.deps, { partnerNumber: "DE-0815-4711" });
    const client = new FormClient(overHttp(base));
    await signIn({ mailbox: u.mailbox }, { user: admin, client });

    // One browser context for the twelve loads, resized before each (a context costs more than a load).
    const page = await chromium.newPage();
    await page.context().addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: base })));
    for (const locale of LOCALES) {
      await u.deps.db.updateTable("users").set({ locale }).where("id", "=", admin.id).execute();
      for (const width of [1280, 375]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(`${base}/support/rollout`);
        const where = `${locale} at ${width} px`;
        expect(await page.getAttribute("html", "lang"), where).toBe(locale);

        // Each text of each chart lies inside the chart's drawing (an SVG clips what is outside it), and
        // apart from every other text.
        const charts = await page.evaluate(() =>
          [...document.querySelectorAll("svg.chart")].map((svg) => {
            const box = (svg as SVGSVGElement).viewBox.baseVal;
            const texts = [...svg.querySelectorAll("text")].map((t) => ({ text: t.textContent ?? "", b: t.getBBox() }));
            const outside = texts.filter(({ b }) => b.x < 0 || b.y < 0 || b.x + b.width > box.width || b.y + b.height > box.height).map((t) => t.text);
            const overlapping = texts.flatMap((a, i) =>
              texts.slice(i + 1).filter(({ b }) => a.b.x < b.x + b.width && b.x < a.b.x + a.b.width && a.b.y < b.y + b.height && b.y < a.b.y + a.b.height).map((b) => `${a.text} / ${b.text}`),
            );
            return { outside, overlapping };
          }),
        );
        expect(charts.length, where).toBe(2);
        for (const chart of charts) expect(chart, where).toEqual({ outside: [], overlapping: [] });

        // No word of the figures tables is broken over lines: a cell takes no more lines than it has words.
        const broken = await brokenCells(page, "table.figures th, table.figures td", false);
        expect(broken, where).toEqual([]);
        // And the page itself never scrolls sideways (WCAG 1.4.10).
        expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), where).toBeLessThanOrEqual(0);
        // A table's own region that scrolls sideways is named and reachable by keyboard (axe's scrollable-region-focusable).
        if (width === 375) await expectAccessible(page);
      }
    }
  }, 240_000);

  /**
   * A dealer's staff on a phone (360 px) reading Profile's "Your sessions", and retail IT reading a
   * user's page, the audit trail, search results, Needs attention (its reasons) and Rollout's plan, in
   * every language: the tables' words were broken letter by letter to squeeze five to seven columns
   * into the window ("Últim/a/activi/dad", "Chrom/e en Linux", a login ID as "st/af/f./nl", an address
   * as "12/7./0./0./1"); the plan's Remove buttons' hidden words (.visually-hidden, absolutely placed)
   * then reached past the page's edge, the region not being positioned. A table now keeps
   * its words whole and scrolls sideways in a named region of its own when it is wider than the
   * window (WCAG 1.4.10's data-table case, as Rollout's figures), the page itself never.
   */
  it("keeps every word whole in the tables of Profile, a user's page, the audit trail, search, Needs attention and Rollout's plan, at 360 px, in every language", async () => {
    const admin = await addUser(u.deps, { role: "admin", loginId: "it.desk", email: "it.desk@retail.example" });
    const target = await addUser(u.deps, { loginId: "staff.narrow", fullName: "Jana Schmidt", email: "sales@dealer.example" });
    await signedInWithSentMail(target);
    // Two sessions of the admin: Profile lists the other one with its "End" button.
    await signIn({ mailbox: u.mailbox }, { user: admin, client: new FormClient(overHttp(base)) });
    const client = new FormClient(overHttp(base));
    await signIn({ mailbox: u.mailbox }, { user: admin, client });

    // Needs attention lists the target's address with a mail server's reason; Rollout's plan has a partner's start and the default's.
    const bounced = await addUser(u.deps, { loginId: "staff.bounced", fullName: "Ana Ruiz", email: "ventas@dealer.example" });
    await signIn({ mailbox: u.mailbox }, { user: bounced, client: new FormClient(overHttp(base)), until: "otp" });
    const mail = await u.deps.db.selectFrom("outbox").select("id").where("user_id", "=", bounced.id).executeTakeFirstOrThrow();
    await recordBounce(u.deps, { outboxId: mail.id, kind: "hard", status: "5.1.1", reason: "550 5.1.1 <ventas@dealer.example>: Recipient address rejected: User unknown in virtual mailbox table" }, "webhook");
    for (const partner of ["DE-0815-4711", ""]) expect((await client.post("/support/rollout/plan", { partner, from: "2027-03-01T07:00" })).statusCode).toBe(303);

    const page = await chromium.newPage({ viewport: { width: 360, height: 740 } });
    await page.context().addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: base })));
    const problems: string[] = [];
    for (const locale of LOCALES) {
      await u.deps.db.updateTable("users").set({ locale }).where("id", "=", admin.id).execute();
      for (const path of ["/profile", `/support/users/${target.id}`, "/support/audit", "/support?q=staff", "/support/attention", "/support/rollout"]) {
        await page.goto(`${base}${path}`);
        const where = `${locale} ${path}`;
        expect(await page.getAttribute("html", "lang"), where).toBe(locale);
        if (path === "/support/attention") expect(await page.textContent("main"), where).toContain("User unknown in virtual mailbox table");
        for (const cell of await brokenCells(page, "main th, main td", true)) problems.push(`${where}: ${cell}`);
        const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (sideways > 0) problems.push(`${where}: the page scrolls ${sideways} px sideways`);
        // A region that scrolls is named and reachable by keyboard (axe's scrollable-region-focusable); one language is enough.
        if (locale === "de") await expectAccessible(page);
      }
    }
    expect(problems, problems.join("\n")).toEqual([]);
  }, 120_000);

  /**
   * The persona walk on a German console: a user's recent security events, made by real flows (a wrong
   * password, a sign-in with its code, the other browser's session ended from Profile, a role changed by
   * an administrator, a bounce of the code mail whose words name another mailbox). No detail field is
   * named in English, and the other mailbox is masked.
   */
  it("names no detail field in English on the user's page", async () => {
    const admin = await addUser(u.deps, { role: "admin", loginId: "pruefer.de", email: "pruefer.de@famos.test" });
    const target = await addUser(u.deps, { loginId: "ereignis.de", email: "ereignis.de@autohaus.example" });
    // A wrong password, then a sign-in: password.failed, password.ok, code.sent, code.confirmed.
    const wrong = new FormClient(overHttp(base));
    await wrong.get("/login");
    await wrong.post("/login", { loginId: target.login_id, password: "not her password at all" });
    await signIn({ mailbox: u.mailbox }, { user: target, client: new FormClient(overHttp(base)) });
    // Signed in on a second browser, she ends the first one's session from Profile: session.ended by her.
    const second = await signIn({ mailbox: u.mailbox }, { user: target, client: new FormClient(overHttp(base)) });
    expect((await second.client.post("/profile/sessions/end-others", {})).statusCode).toBe(303);
    const mail = await u.deps.db.selectFrom("outbox").select("id").where("user_id", "=", target.id).orderBy("created_at").executeTakeFirstOrThrow();
    await recordBounce(u.deps, { outboxId: mail.id, kind: "soft", status: "4.2.2", reason: "452 4.2.2 mailbox full; write to mark.other@autohaus.example" }, "webhook");
    const by = (await findUserById(u.deps.db, admin.id))!;
    expect((await changeRole(u.deps, { user: by, audit: { actor: by.login_id, ip: "192.0.2.70", userAgent: "audit-detail-browser" } }, (await findUserById(u.deps.db, target.id))!, "support")).kind).toBe("changed");

    const client = new FormClient(overHttp(base));
    await signIn({ mailbox: u.mailbox }, { user: admin, client });
    expect((await client.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);
    const page = await chromium.newPage();
    await page.context().addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: base })));
    await page.goto(`${base}/support/users/${target.id}`);
    expect(await page.getAttribute("html", "lang")).toBe("de");

    const rows = await page.locator("#events-caption").locator("xpath=..").locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => ({ event: tr.querySelector(".event")?.textContent ?? "", detail: tr.lastElementChild?.textContent ?? "" })),
    );
    const events = new Set(rows.map((r) => r.event));
    for (const event of ["password.failed", "password.ok", "code.sent", "code.confirmed", "session.ended", "mail.bounced", "role.changed"]) expect(events, event).toContain(event);

    const english = new Set(Object.entries(CATALOGUES["en-GB"] as Record<string, string>).filter(([key]) => key.startsWith("console.detail.key.")).map(([, name]) => name));
    const pairs = rows.flatMap((r) => (r.detail === "" ? [] : r.detail.split(", ").map((pair) => ({ event: r.event, key: pair.split(": ")[0]!, pair }))));
    expect(pairs.length).toBeGreaterThan(6);
    expect(pairs.filter((p) => english.has(p.key)).map((p) => `${p.event} ${p.pair}`)).toEqual([]);
    expect(rows.find((r) => r.event === "role.changed")?.detail).toBe("von: Benutzer, an: Support");
    const body = (await page.textContent("body"))!;
    expect(body).not.toContain("mark.other@autohaus.example");
    expect(body).toContain("m•••@autohaus.example");
    await page.close();
  });
});
