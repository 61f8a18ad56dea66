import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { expectAccessible, launchBrowser } from "../support/browser.ts";
import { heading, mailedCode } from "../support/browser-signin.ts";

/** Issue 11, item 2, in Chromium with the code from a real SMTP server: "Forgot password?" to a new password and a normal sign-in. */
describe("self-service password reset in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
    base = await listen(t);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("resets the password with the mailed code, then signs in with the new one and a fresh code", async () => {
    await addUser(t.deps, { loginId: "rita.reset", email: "rita@dealer.example" });
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await expect.poll(() => heading(page)).toBe("Forgot password?");
    await expectAccessible(page);
    let before = t.smtp.messages.length;
    await page.getByLabel("Login ID").fill("rita.reset");
    await page.getByRole("button", { name: "Send code" }).click();
    await expect.poll(() => heading(page)).toBe("Reset your password");
    await expectAccessible(page);
    await page.getByLabel("Please enter the received code").fill(await mailedCode(t.smtp, "rita@dealer.example", before));
    await page.getByLabel("New password", { exact: true }).fill("rita chose this one");
    await page.getByLabel("Confirm new password").fill("rita chose this one");
    await page.getByRole("button", { name: "Reset password" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Your password was reset");

    before = t.smtp.messages.length;
    await page.getByLabel("Login ID").fill("rita.reset");
    await page.getByLabel("Password").fill("rita chose this one");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => heading(page)).toBe("OTP capture");
    await page.getByLabel("Please enter the received code").fill(await mailedCode(t.smtp, "rita@dealer.example", before));
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    await page.close();
  });
});
