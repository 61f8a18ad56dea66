import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, listen, type TestApp } from "../support/app.ts";
import { useBrowser } from "../support/browser-app.ts";
import { expectAccessible } from "../support/browser.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * Issue 16: the console in German passes axe in Chromium (lang="de", long German labels in tables
 * and buttons) and fits a 320 px window (WCAG 1.4.10 Reflow: nothing scrolls sideways, the console's
 * own navigation included). Two pages with the most text: a user's page and Rollout. The session
 * comes from a sign-in over real HTTP; its cookies are handed to the browser.
 */
describe("the support console in German, in Chromium", () => {
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

  it("passes axe on a user's page and on Rollout, in German, and fits 320 px", async () => {
    const admin = await addUser(u.deps, { role: "admin", loginId: "konsole.de", email: "konsole.de@famos.test" });
    const target = await addUser(u.deps, { loginId: "ziel.de", fullName: "Jana Schmidt", email: "jana.schmidt@autohaus.example" });
    // The user's page then has rows in its tables (sessions, mail, audit), each time with its ISO form.
    await signIn({ mailbox: u.mailbox }, { user: target, client: new FormClient(overHttp(base)) });
    const { created_at } = await u.deps.db.selectFrom("outbox").select("created_at").where("user_id", "=", target.id).executeTakeFirstOrThrow();
    await u.deps.db.updateTable("outbox").set({ state: "sent", sent_at: created_at + 2000 }).where("user_id", "=", target.id).execute();
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
});
