import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, logIn } from "../support/browser.ts";

/**
 * Issue 15: OTP capture keeps itself current while the code's email is queued or being retried
 * (a served module, no inline script), and says when it has been sent.
 *
 * The page's own timers run on Playwright's clock (installed before the page loads): each look moves
 * the browser's time on by the module's interval (3 s), so its next ask is due at once rather than up
 * to 3 s of real time later. The module still asks by itself: without its timer, nothing updates.
 */
const ASK_EVERY_MS = 3000;
/** The text of `selector`, after the browser's time moved on by one interval of the page's asks. */
async function afterAnAsk(page: Page, selector: string): Promise<string | null> {
  await page.clock.runFor(ASK_EVERY_MS);
  return page.locator(selector).textContent();
}

describe("OTP capture while the mail server is down, in Chromium", () => {
  const fixture = useBrowserApp();

  it("shows the mail as not taken yet and updates by itself, then shows it sent once the server is back", async () => {
    const { t, base } = fixture;
    const user = await addUser(t.deps, { email: "outage@dealer.example" });
    t.smtp.refuse(true);
    const page = await fixture.newPage();
    await page.clock.install();
    const scriptErrors: string[] = [];
    page.on("pageerror", (error) => scriptErrors.push(error.message));
    // Every answer the page's module got (the browser's own /favicon.ico request aside).
    page.on("response", (response) => {
      if (response.status() >= 400 && !response.url().endsWith("/favicon.ico")) scriptErrors.push(`${response.status()} ${response.url()}`);
    });
    await logIn(page, base, user);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");

    // The first try was refused (451): the page says so, and that it updates by itself.
    const delivery = page.locator("#delivery");
    await expect.poll(() => afterAnAsk(page, "#delivery"), { timeout: 15_000 }).toContain("The mail server has not taken the email for");
    expect(await delivery.textContent()).toContain("This page updates by itself.");
    expect(await page.locator('script[src="/static/delivery-status.js"]').count()).toBe(1);
    // It asks for as long as the code can be confirmed (15 minutes from when it was sent), no longer.
    const validFor = Number(await delivery.getAttribute("data-valid-for-ms"));
    expect(validFor).toBeGreaterThan(14 * 60_000);
    expect(validFor).toBeLessThanOrEqual(15 * 60_000);
    expect(await page.locator("script:not([src])").count()).toBe(0);
    await expectAccessible(page);

    // The page is not reloaded: a mark left in it survives the update.
    await page.evaluate(() => ((globalThis as { stillHere?: boolean }).stillHere = true));
    t.smtp.refuse(false);
    t.clock.advance(10_000); // past the retry's back-off, on FAMOS's fixed clock
    t.services.sender.wake();
    await t.smtp.waitForMessage((m) => m.envelopeTo.includes("outage@dealer.example"), 10_000);
    await expect.poll(() => afterAnAsk(page, "#delivery"), { timeout: 15_000 }).toContain("We sent a code to");
    expect(await delivery.textContent()).toContain("Check your junk folder if it is not in your inbox within a minute.");
    expect(await page.evaluate(() => (globalThis as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(await delivery.getAttribute("aria-live")).toBe("polite");
    await expectAccessible(page);
    expect(scriptErrors, scriptErrors.join("\n")).toEqual([]);
  });

  it("says \"sent\" for the first code, not \"a new code\", and no \"Codes sent before it\"", async () => {
    const { t, base } = fixture;
    const user = await addUser(t.deps, { email: null });
    const page = await fixture.newPage();
    await page.clock.install();
    await logIn(page, base, user);
    await page.getByLabel("Email address", { exact: true }).fill("first.code@dealer.example");
    await page.getByLabel("Confirm email address").fill("first.code@dealer.example");
    await page.getByRole("button", { name: "Update" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");
    await expect.poll(() => afterAnAsk(page, "#delivery"), { timeout: 15_000 }).toContain("We sent a code to");
    const main = await page.textContent("main");
    expect(main).not.toContain("A new code");
    expect(main).not.toContain("Codes sent before it no longer work");
  });
});
