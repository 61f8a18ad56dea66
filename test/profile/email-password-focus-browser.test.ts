import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { autofocusSettled, expectAccessible, focusedId, pressToNavigate, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

const describedBy = (page: Page, id: string) => page.locator(`#${id}`).getAttribute("aria-describedby");
const invalid = (page: Page, id: string) => page.locator(`#${id}`).getAttribute("aria-invalid");

/**
 * Profile's change of OTP email asks for the password once the last code is over 15 minutes old. When
 * the password is what was refused (wrong, or asked for because the 15 minutes ran out while the page
 * was open), the addresses are kept and the password is the one field to type again: the cursor goes
 * there, and the field is described by the reason as well as by its hint (WCAG 3.3.1), as on Log in.
 */
describe("Profile's change of address refused for its password", () => {
  const f = useBrowserApp();

  async function profileWithAddresses(page: Page, stamp: string) {
    const user = await addUser(f.t.deps, { loginId: `move.${stamp}`, email: `move.${stamp}@dealer.example` });
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user, `${f.base}/login`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/");
    return user;
  }

  /** Profile past the 15 minutes, "Send code" with these two addresses and the password right or wrong. */
  async function sendCodeWithPassword(stamp: string, confirm: string, passwordRight: boolean) {
    const page = await f.newPage();
    const user = await profileWithAddresses(page, stamp);
    f.t.clock.advance(16 * 60_000);
    await page.goto(`${f.base}/profile`);
    await page.locator("#newEmail").fill(`moved.${stamp}@dealer.example`);
    await page.locator("#confirmNewEmail").fill(`${confirm}.${stamp}@dealer.example`);
    await page.locator("#emailPassword").fill(passwordRight ? user.password : `not ${user.password}`);
    await pressToNavigate(page);
    return page;
  }

  it("a wrong password puts the cursor in the password field, the addresses kept", async () => {
    const stamp = `${Date.now()}a`;
    const page = await sendCodeWithPassword(stamp, "moved", false);
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    await autofocusSettled(page);
    expect(await focusedId(page)).toBe("emailPassword");
    expect(await describedBy(page, "emailPassword")).toBe("email-error emailPasswordHint");
    expect(await invalid(page, "emailPassword")).toBe("true");
    expect(await invalid(page, "newEmail")).toBeNull();
    expect(await page.locator("#newEmail").inputValue()).toBe(`moved.${stamp}@dealer.example`);
    await expectAccessible(page);
  });

  it("the 15 minutes running out while the page was open puts the cursor in the password field it now asks for", async () => {
    const stamp = `${Date.now()}b`;
    const page = await f.newPage();
    await profileWithAddresses(page, stamp);
    await page.goto(`${f.base}/profile`);
    expect(await page.locator("#emailPassword").count()).toBe(0);
    f.t.clock.advance(16 * 60_000);
    await page.locator("#newEmail").fill(`moved.${stamp}@dealer.example`);
    await page.locator("#confirmNewEmail").fill(`moved.${stamp}@dealer.example`);
    await pressToNavigate(page);
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    await autofocusSettled(page);
    expect(await focusedId(page)).toBe("emailPassword");
    await expectAccessible(page);
  });

  it("a refused address keeps the cursor in the new address, the password asked again below", async () => {
    const page = await sendCodeWithPassword(`${Date.now()}c`, "other", true);
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    await autofocusSettled(page);
    expect(await focusedId(page)).toBe("newEmail");
    expect(await invalid(page, "newEmail")).toBe("true");
    expect(await describedBy(page, "emailPassword")).toBe("emailPasswordHint");
    expect(await invalid(page, "emailPassword")).toBeNull();
  });
});
