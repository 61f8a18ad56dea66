import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { translator } from "../../src/i18n/translator.ts";
import { passkeysSection } from "../../src/web/pages/passkey-pages.ts";
import { checkAccessibility, launchBrowser } from "../support/browser.ts";

/**
 * rev2 finding D (persona, scrollingTable): six callers (passkeys, sessions, a user's events and mails,
 * Needs attention's two tables) name the table's scrolling region by the heading that already names its
 * enclosing <section aria-labelledby>: two region landmarks, nested, with one and the same name. axe's
 * landmark-unique (impact "moderate", so checkAccessibility's serious/critical filter never shows it)
 * flags it; a screen reader's landmark list reads "Passkeys region" twice.
 */
describe("a scrolling table's region inside its section", () => {
  let browser: Browser;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => browser?.close());

  it("has a name of its own (axe landmark-unique)", async () => {
    const t = translator("en-GB", "Europe/London");
    const section = passkeysSection(t, { csrf: "x", passkeys: [{ id: "p1", name: "Office PC", createdAt: 0, lastUsedAt: null } as never], passwordNeeded: false, add: {} });
    const page = await browser.newPage();
    await page.setContent(`<!doctype html><html lang="en-GB"><head><title>t</title></head><body><main><h1>Profile</h1>${section.value}</main></body></html>`);
    await checkAccessibility(page); // injects axe
    const ids = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: { id: string; nodes: { html: string }[] }[] }> } }).axe;
      const r = await axe.run(document, { runOnly: { type: "rule", values: ["landmark-unique"] } });
      return r.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.html.slice(0, 90)}`));
    });
    expect(ids).toEqual([]);
  });
});
