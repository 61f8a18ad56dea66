import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { issueRecoveryCodes } from "../../src/strong-factors/recovery-codes.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, signInInBrowser } from "../support/browser.ts";

/**
 * A user's page as a screen-reader user moves through it by headings: each heading names its part
 * of the page once, and none repeats a fact's term ("Role", "Access", "Second factors") that says
 * the state rather than what can be done there.
 */
describe("a user's page, heading by heading", { timeout: 120_000 }, () => {
  const f = useBrowserApp();
  const unique = `${process.pid}${Date.now() % 100_000}`;

  async function outline(page: Page) {
    const headings = await page.locator("main h1, main h2, main h3, main h4").allTextContents();
    const terms = await page.locator("main dl.facts dt").allTextContents();
    return { headings: headings.map((h) => h.trim()), terms: terms.map((d) => d.trim()) };
  }

  it("has every section heading once, none the same as a fact's term, in English and in German", async () => {
    const admin = await addUser(f.t.deps, { role: "admin", loginId: `headings.admin.${unique}`, email: `headings.admin.${unique}@famos.test` });
    const user = await addUser(f.t.deps, { loginId: `headings.user.${unique}`, email: `headings.user.${unique}@famos.test` });
    // A second factor, so "Remove second factors" shows too.
    await f.t.deps.db.transaction().execute((tx) => issueRecoveryCodes(tx, f.t.deps, user.id));
    const page = await f.newPage();
    await signInInBrowser(page, f.t.mailbox, admin, `${f.base}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);

    for (const locale of ["en-GB", "de"]) {
      await f.t.deps.db.updateTable("users").set({ locale }).where("id", "=", admin.id).execute();
      await page.goto(`${f.base}/support/users/${user.id}`);
      await expect.poll(() => heading(page)).toContain(user.login_id);
      const { headings, terms } = await outline(page);
      // Every action the page offers an administrator here has its section.
      expect(headings.length, locale).toBe(9);
      expect(new Set(headings).size, `${locale}: ${headings.join(" | ")}`).toBe(headings.length);
      expect(headings.filter((h) => terms.includes(h)), locale).toEqual([]);
      await expectAccessible(page);
    }
  });
});
