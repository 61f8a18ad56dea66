import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { html, type SafeHtml } from "../../src/platform/html.ts";
import { codeForm } from "../../src/web/pages/code-entry.ts";
import { checkAccessibility, formatViolations } from "../support/browser.ts";
import { useBrowser } from "../support/browser-app.ts";

/**
 * OTP capture's code field (codeForm, the one form the sign-in's and the email change's pages share)
 * in Chromium: a refusal marks the field invalid and describes it by the reason (WCAG 3.3.1); a problem
 * with no text (an empty string, empty HTML) is no refusal: nothing invalid, no description pointing at
 * nothing, no empty alert.
 */
describe("codeForm's field and its problem", () => {
  // The worker's Chromium (useBrowser); one page of its own for the block's tests, closed after them.
  const chromium = useBrowser();
  let page: Page;
  beforeAll(async () => {
    page = await chromium.browser.newPage();
  });
  afterAll(async () => page?.context().close());

  const t = translator("en-GB", "Europe/London");
  async function show(problem: string | SafeHtml | undefined) {
    const form = codeForm(t, "token", { confirm: "/otp", cancel: "/otp/cancel", regenerate: "/otp/regenerate" }, problem);
    await page.setContent(`<!doctype html><html lang="en-GB"><head><title>OTP capture</title></head><body><main><h1>OTP capture</h1>${form.value}</main></body></html>`);
    const field = page.locator("#code");
    const violations = await checkAccessibility(page);
    expect(violations, formatViolations(violations)).toEqual([]);
    return {
      invalid: await field.getAttribute("aria-invalid"),
      describedBy: await field.getAttribute("aria-describedby"),
      alerts: await page.getByRole("alert").count(),
    };
  }

  it("a problem with words: the field is invalid and described by them", async () => {
    expect(await show("That code is wrong. 4 tries left.")).toEqual({ invalid: "true", describedBy: "code-error", alerts: 1 });
    expect(await page.locator("#code-error").textContent()).toBe("That code is wrong. 4 tries left.");
  });

  it("no problem, an empty string or empty HTML: nothing invalid, no description, no empty alert", async () => {
    for (const problem of [undefined, "", html``]) {
      expect([problem, await show(problem)]).toEqual([problem, { invalid: null, describedBy: null, alerts: 0 }]);
    }
  });
});
