import { describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

// Profile, as early-enrol-enter-keeps-typed-browser: "Use …" (form="email-form") once preceded the form, so it
// was the form's default button and "keep what I typed" + password + Enter mailed the suggested address.
describe("Profile, Enter after \"Did you mean …?\"", { timeout: 120_000 }, () => {
  const f = useBrowserApp();
  it("keeps the typed address when the person presses Enter in the password field, and passes axe", async () => {
    const page = await f.newPage();
    const user = await addUser(f.t.deps, { loginId: "rvw.prof", email: "rvw.prof@dealer.example" });
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user, `${f.base}/login`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/");
    f.t.clock.advance(16 * 60_000);
    await page.goto(`${f.base}/profile`);
    const typed = "kim.keep@hotmial.co.uk";
    await page.locator("#newEmail").fill(typed);
    await page.locator("#confirmNewEmail").fill(typed);
    await page.locator("#emailPassword").fill(user.password);
    await page.locator("#emailPassword").press("Enter");
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("Did you mean kim.keep@hotmail.co.uk?");
    // "Use …" in the form's buttons after its own: the page still passes axe.
    await expectAccessible(page);
    await page.locator("#emailPassword").fill(user.password);
    await page.locator("#emailPassword").press("Enter");
    await expect.poll(async () => (await findUserById(f.t.deps.db, user.id))!.pending_email).not.toBeNull();
    expect((await findUserById(f.t.deps.db, user.id))!.pending_email).toBe(typed);
  });
});
