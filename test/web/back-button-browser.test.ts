import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, mailedCode } from "../support/browser.ts";

/**
 * Back over a form that was answered with a page (a refused code or password): the browser must not
 * ask to send the form again ("Confirm form resubmission", Chromium's ERR_CACHE_MISS), which staff take
 * for an error and press on, sending a refused code or password a second time.
 */
describe("Back after a form was refused and then accepted", () => {
  const f = useBrowserApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
  let n = 0;
  const unique = (what: string) => `back.${what}.${Date.now()}.${(n += 1)}`;

  /** Back one page: the path it lands on, or the network error Chromium shows for a post it would resend. */
  async function back(page: Page): Promise<string> {
    try {
      await page.goBack({ waitUntil: "load" });
      return new URL(page.url()).pathname;
    } catch (error) {
      return String(error);
    }
  }

  async function logIn(page: Page, user: { login_id: string }, password: string) {
    await page.getByLabel("Login ID").fill(user.login_id);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
  }

  it("OTP capture: a wrong code, then the right one, then Back shows the portal", async () => {
    const user = await addUser(f.t.deps, { loginId: unique("code"), email: `${unique("code")}@dealer.example` });
    const page = await f.newPage();
    await page.goto(`${f.base}/login`);
    const before = f.t.smtp.messages.length;
    await logIn(page, user, user.password);
    await expect.poll(() => heading(page)).toBe("OTP capture");
    const code = await mailedCode(f.t.smtp, user.otp_email!, before);
    await page.getByLabel("Please enter the received code").fill(code === "000000" ? "111111" : "000000");
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not right");
    // As a person would: the refused answer's page loaded (its form-answer.js replaces the POST in history) before typing again.
    await page.waitForLoadState("load");
    await expectAccessible(page);
    await page.getByLabel("Please enter the received code").fill(code);
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    expect(await back(page)).toBe("/");
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
  });

  it("Sign in: a wrong password, then the right one, then Back from OTP capture", async () => {
    const user = await addUser(f.t.deps, { loginId: unique("password"), email: `${unique("password")}@dealer.example` });
    const page = await f.newPage();
    await page.goto(`${f.base}/login`);
    await logIn(page, user, "not the password at all");
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    await page.waitForLoadState("load");
    await logIn(page, user, user.password);
    await expect.poll(() => heading(page)).toBe("OTP capture");
    // The sign-in page again, which sends a half-signed-in browser on to OTP capture.
    expect(await back(page)).toBe("/otp");
    expect(await heading(page)).toBe("OTP capture");
  });

  it("Reset your password: a refused password keeps the code typed; a wrong code, then the right one, then Back", async () => {
    const user = await addUser(f.t.deps, { loginId: unique("reset"), email: `${unique("reset")}@dealer.example` });
    const page = await f.newPage();
    await page.goto(`${f.base}/forgot-password`);
    const before = f.t.smtp.messages.length;
    await page.getByLabel("Login ID").fill(user.login_id);
    await page.getByRole("button", { name: "Send code" }).click();
    await expect.poll(() => heading(page)).toBe("Reset your password");
    const code = await mailedCode(f.t.smtp, user.otp_email!, before);
    const fill = async (typed: string, password: string, again = password) => {
      await page.getByLabel("Please enter the received code").fill(typed);
      await page.getByLabel("New password", { exact: true }).fill(password);
      await page.getByLabel("Confirm new password").fill(again);
      await page.getByRole("button", { name: "Reset password" }).click();
    };
    // Two new passwords that differ: the code was not tried, so it stays in its field (it still works).
    await fill(code, "a brand new passphrase", "a brand new passphrase!");
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    await page.waitForLoadState("load");
    expect(await page.getByLabel("Please enter the received code").inputValue()).toBe(code);
    expect(await page.getByLabel("New password", { exact: true }).inputValue()).toBe("");
    await expectAccessible(page);
    // A wrong code: refused, and its field is cleared with the passwords.
    await fill(code === "000000" ? "111111" : "000000", "a brand new passphrase");
    await expect.poll(() => page.getByRole("alert").textContent()).not.toContain("match");
    await page.waitForLoadState("load");
    expect(await page.getByLabel("Please enter the received code").inputValue()).toBe("");
    await fill(code, "a brand new passphrase");
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Your password was reset");
    expect(await back(page)).toBe("/forgot-password");
  });
});
