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

/**
 * QA: Regenerate OTP disabled because it would not help (the cap reached with the last code still live,
 * or a sign-in no longer open) is described by why, in Chromium's accessibility tree, axe-clean: by a
 * note when nothing was refused, by the refusal when its words already end with the reason.
 */
describe("codeForm's disabled Regenerate OTP and its reason", () => {
  const chromium = useBrowser();
  let page: Page;
  beforeAll(async () => {
    page = await chromium.browser.newPage();
  });
  afterAll(async () => page?.context().close());

  const t = translator("en-GB", "Europe/London");
  const cap = "You have had 5 codes for this sign-in, the most allowed. Use Cancel and log in again to start over.";
  async function regenerate(problem: string | undefined, why: string | null) {
    const form = codeForm(t, "token", { confirm: "/otp", cancel: "/otp/cancel", regenerate: "/otp/regenerate" }, problem, why);
    await page.setContent(`<!doctype html><html lang="en-GB"><head><title>OTP capture</title></head><body><main><h1>OTP capture</h1>${form.value}</main></body></html>`);
    const violations = await checkAccessibility(page);
    expect(violations, formatViolations(violations)).toEqual([]);
    const button = page.getByRole("button", { name: "Regenerate OTP" });
    return {
      disabled: await button.isDisabled(),
      description: await button.evaluate((b) => (b.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean).map((id) => document.getElementById(id)?.textContent ?? `#${id} missing`).join(" ")),
      shown: await page.getByText(cap).count(),
    };
  }

  it("a live last code: disabled, described by the cap's note (shown once)", async () => {
    expect(await regenerate(undefined, cap)).toEqual({ disabled: true, description: cap, shown: 1 });
  });

  it("a wrong try at the cap: the field by the refusal, the button by the note", async () => {
    expect(await regenerate("That code is not right. You have 4 tries left.", cap)).toEqual({ disabled: true, description: cap, shown: 1 });
  });

  it("a refusal ending with the reason: described by it, no second note", async () => {
    const refusal = `This code has expired. ${cap}`;
    expect(await regenerate(refusal, cap)).toEqual({ disabled: true, description: refusal, shown: 1 });
  });

  it("nothing in the way: enabled, no description", async () => {
    expect(await regenerate(undefined, null)).toEqual({ disabled: false, description: "", shown: 0 });
  });
});
