import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { autofocusSettled, cursorState, expectAccessible, logIn, pressToNavigate, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

/**
 * A refused code (wrong, expired, void) leaves the cursor in the code field, as every refused form
 * does: the field is marked invalid and described by the reason (WCAG 3.3.1), so a screen reader on
 * the field hears why and how many tries are left, on OTP capture and on Profile's code step alike.
 * A code page that refused nothing describes the field by nothing.
 */
describe("A refused code is read with the code field", () => {
  const f = useBrowserApp();

  async function typeWrongCode(page: Page) {
    await autofocusSettled(page);
    expect(await cursorState(page)).toEqual({ field: "code", invalid: null, describedBy: [] });
    await page.keyboard.type("000000");
    await pressToNavigate(page);
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("That code is not right. You have 4 tries left.");
    await autofocusSettled(page);
    const reason = (await page.getByRole("alert").textContent()) ?? "";
    expect(await cursorState(page)).toEqual({ field: "code", invalid: "true", describedBy: [reason] });
    await expectAccessible(page);
  }

  it("on OTP capture", async () => {
    const user = await addUser(f.t.deps, { email: `capture.${Date.now()}@dealer.example` });
    const page = await f.newPage();
    await logIn(page, f.base, user);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");
    await typeWrongCode(page);
  });

  it("on Profile's code for a new address", async () => {
    const stamp = `${Date.now()}p`;
    const user = await addUser(f.t.deps, { loginId: `code.${stamp}`, email: `code.${stamp}@dealer.example` });
    const page = await f.newPage();
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user, `${f.base}/login`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/");
    await page.goto(`${f.base}/profile`);
    await page.locator("#newEmail").fill(`moved.${stamp}@dealer.example`);
    await page.locator("#confirmNewEmail").fill(`moved.${stamp}@dealer.example`);
    await pressToNavigate(page);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/profile/email/confirm");
    await typeWrongCode(page);
  });
});
