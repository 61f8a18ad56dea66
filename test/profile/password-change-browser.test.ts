import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { autofocusSettled, expectAccessible, focusedId, pressToNavigate, sharedSignIn, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

const describedBy = (page: Page, id: string) => page.locator(`#${id}`).getAttribute("aria-describedby");
const invalid = (page: Page, id: string) => page.locator(`#${id}`).getAttribute("aria-invalid");

/**
 * Profile's password change refused: the three fields are emptied and the cursor starts again at the
 * first, read with the reason; the field the reason is about is marked invalid and described by it
 * (WCAG 3.3.1, refusedField): the current password when it was wrong, the new one when it is too short,
 * too common, or not typed the same twice. Chromium, axe on each page.
 */
describe("Profile's password change refused", () => {
  const f = useBrowserApp();
  // One person for the three refusals: a refused change changes nothing, so they do not see each other.
  const signedIn = sharedSignIn(() => f.base, async (page) => {
    const user = await addUser(f.t.deps, { loginId: "pwchange", email: "pwchange@dealer.example" });
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user, `${f.base}/login`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/");
    return user;
  });

  async function refusedChange(current: (password: string) => string, next: string, confirm: string) {
    const page = await f.newPage();
    const user = await signedIn(page);
    await page.goto(`${f.base}/profile`);
    await page.locator("#currentPassword").fill(current(user.password));
    await page.locator("#newPassword").fill(next);
    await page.locator("#confirmNewPassword").fill(confirm);
    await pressToNavigate(page);
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    await autofocusSettled(page);
    expect(await focusedId(page)).toBe("currentPassword");
    await expectAccessible(page);
    return page;
  }

  it("a wrong current password marks the current password", async () => {
    const page = await refusedChange((p) => `not ${p}`, "a brand new long passphrase", "a brand new long passphrase");
    expect([await invalid(page, "currentPassword"), await describedBy(page, "currentPassword")]).toEqual(["true", "password-error"]);
    expect([await invalid(page, "newPassword"), await describedBy(page, "newPassword")]).toEqual([null, "newPasswordHint"]);
  });

  it("a new password too short, or typed differently twice, marks the new password, described by the reason and its hint", async () => {
    for (const [next, confirm] of [["short", "short"], ["a brand new long passphrase", "a different long passphrase"]]) {
      const page = await refusedChange((p) => p, next!, confirm!);
      expect([next, await invalid(page, "newPassword"), await describedBy(page, "newPassword")]).toEqual([next, "true", "password-error newPasswordHint"]);
      expect([next, await invalid(page, "currentPassword"), await describedBy(page, "currentPassword")]).toEqual([next, null, "password-error"]);
    }
  });
});
