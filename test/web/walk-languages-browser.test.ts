import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { autofocusSettled, checkAccessibility, formatViolations, pressToNavigate, tabTo } from "../support/browser.ts";
import type { TestSmtpServer } from "../support/smtp.ts";
import type { Locale } from "../../src/i18n/locales.ts";

/** The code of the first mail to `email` from index `before` on, whatever its language. */
async function mailedCode(smtp: TestSmtpServer, email: string, before: number): Promise<string> {
  const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes(email) && smtp.messages.indexOf(m) >= before);
  return /\b(\d{6})\b/.exec(mail.text)![1]!;
}

const focused = (page: Page) => page.evaluate(() => document.activeElement?.id ?? "");
const path = (page: Page) => new URL(page.url()).pathname;

/**
 * QA walk: a new member of staff, keyboard only, in French and in Dutch: Log in, "User profile" with
 * the address twice (first a mismatch), OTP capture (a wrong code, Regenerate too soon, Confirm),
 * Profile's change of address, Sign out, and "Forgot password?". Each screen axe clean, the cursor
 * where the next thing is to be typed.
 *
 * axe runs on each screen here but four: the sign-in page, User profile, OTP capture after a wrong
 * code and Profile, which test/i18n/locale-browser.test.ts checks with axe in the same state and the
 * same language (at 390 px, every language), so each (screen, language) is still checked once; an axe
 * pass costs about a second of the 2-core CI machine.
 */
const CHECKED_IN_LOCALE_BROWSER = new Set(["sign-in", "enrol", "otp wrong code", "profile"]);
describe("the sign-in screens walked by keyboard in two languages", () => {
  const f = useBrowserApp({ env: { FAMOS_PASSWORD_RESET: "self" } });

  for (const [locale, browserLocale] of [["fr", "fr-FR"], ["nl", "nl-NL"]] as const satisfies [Locale, string][]) {
    it(`in ${locale}`, async () => {
      const stamp = `${locale}.${Date.now()}`;
      const email = `walk.${stamp}@dealer.example`;
      const user = await addUser(f.t.deps, { loginId: `walk.${stamp}`, email: null });
      const page = await f.newPage({ locale: browserLocale });
      const problems: string[] = [];
      const axe = async (step: string) => {
        if (CHECKED_IN_LOCALE_BROWSER.has(step)) return;
        const v = await checkAccessibility(page);
        if (v.length) problems.push(`${step}: ${formatViolations(v)}`);
      };
      const cursor = async (step: string, id: string) => {
        await autofocusSettled(page);
        const at = await focused(page);
        if (at !== id) problems.push(`${step}: the cursor is in "${at}", not "${id}"`);
      };

      await page.goto(`${f.base}/login`);
      await axe("sign-in");
      await cursor("sign-in", "loginId");
      await page.keyboard.type(user.login_id);
      await page.keyboard.press("Tab");
      await page.keyboard.type("not the password");
      await pressToNavigate(page);
      await expect.poll(() => page.getByRole("alert").count()).toBe(1);
      await axe("sign-in refused");
      await cursor("sign-in refused", "password");
      await page.locator("#password").fill(user.password);
      await pressToNavigate(page);

      await expect.poll(() => path(page)).toBe("/enrol");
      await axe("enrol");
      await cursor("enrol", "email");
      await page.keyboard.type(email);
      await page.keyboard.press("Tab");
      await page.keyboard.type(`x${email}`);
      await pressToNavigate(page);
      await expect.poll(() => page.getByRole("alert").count()).toBe(1);
      await axe("enrol mismatch");
      await page.locator("#email").fill(email);
      await page.locator("#confirmEmail").fill(email.toUpperCase());
      const mark = f.t.smtp.messages.length;
      await page.locator("#confirmEmail").press("Enter");

      await expect.poll(() => path(page)).toBe("/otp");
      const code = await mailedCode(f.t.smtp, email, mark);
      await axe("otp");
      await cursor("otp", "code");
      await page.keyboard.type(code === "000000" ? "111111" : "000000");
      await pressToNavigate(page);
      await expect.poll(() => page.getByRole("alert").count()).toBe(1);
      await axe("otp wrong code");
      await cursor("otp wrong code", "code");
      await tabTo(page, "button[formaction='/otp/regenerate']");
      await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/\d\d:\d\d:\d\d/);
      await axe("otp regenerate too soon");
      await cursor("otp regenerate too soon", "code");
      await page.locator("#code").fill(code);
      await pressToNavigate(page);
      await expect.poll(() => path(page)).toBe("/");

      await page.goto(`${f.base}/profile`);
      await axe("profile");
      const newEmail = `walk.new.${stamp}@dealer.example`;
      await page.locator("#newEmail").fill(newEmail);
      await page.locator("#confirmNewEmail").fill(`other.${newEmail}`);
      await page.locator("#confirmNewEmail").press("Enter");
      await expect.poll(() => page.getByRole("alert").count()).toBe(1);
      await axe("profile email mismatch");
      await cursor("profile email mismatch", "newEmail");
      await page.locator("#newEmail").fill(newEmail);
      await page.locator("#confirmNewEmail").fill(newEmail);
      const changeMark = f.t.smtp.messages.length;
      await page.locator("#confirmNewEmail").press("Enter");
      await expect.poll(() => page.locator("#code").count()).toBe(1);
      await axe("profile email code");
      await cursor("profile email code", "code");
      await page.keyboard.type(await mailedCode(f.t.smtp, newEmail, changeMark));
      await pressToNavigate(page);
      await expect.poll(() => path(page)).toBe("/profile");
      await axe("profile email changed");

      await tabTo(page, "form[action='/logout'] button");
      await expect.poll(() => path(page)).toBe("/login");
      await axe("signed out");
      await page.goto(`${f.base}/forgot-password`);
      await axe("forgot password");
      await cursor("forgot password", "loginId");
      const resetMark = f.t.smtp.messages.length;
      await page.keyboard.type(user.login_id);
      await pressToNavigate(page);
      await expect.poll(() => path(page)).toBe("/forgot-password/code");
      await axe("reset code");
      await cursor("reset code", "code");
      await page.keyboard.type(await mailedCode(f.t.smtp, newEmail, resetMark));
      await page.keyboard.press("Tab");
      await page.keyboard.type("short");
      await page.keyboard.press("Tab");
      await page.keyboard.type("short");
      await pressToNavigate(page);
      await expect.poll(() => page.getByRole("alert").count()).toBe(1);
      await axe("reset refused");
      await cursor("reset refused", "newPassword");

      expect(problems, problems.join("\n")).toEqual([]);
    }, 120_000);
  }
});
