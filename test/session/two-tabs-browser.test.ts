import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { heading, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

const ENDED_FORM = "Your session ended before FAMOS received the form, so nothing was done: sign in and do it again.";
const SIGNED_OUT = "You have signed out.";
const CSRF_REFUSED = "This form has expired or did not come from FAMOS. Go back, reload the page and try again.";

/**
 * QA: FAMOS open in two tabs, Sign out in one, then a form in the other. Sign-out renews the CSRF
 * secret, so the other tab's token no longer matches and the CSRF check answered first: "Not
 * allowed". With no session cookie left the form can do nothing as anyone, so it goes to sign-in
 * saying so; once someone is signed in again in that browser, the old tab's form is refused as before.
 */
describe("a form in a second tab after Sign out in the first", () => {
  const f = useBrowserApp();

  async function twoSignedInTabs() {
    const user = await addUser(f.t.deps, { email: "tab.two@dealer.example" });
    const first = await f.newPage();
    await first.goto(`${f.base}/login`);
    await signInInBrowser(first, smtpMailbox(f.t.smtp), user);
    const tabs = first.getByRole("navigation", { name: "FAMOS sections" });
    await expect.poll(() => tabs.getByRole("link", { name: "Profile" }).count()).toBe(1);
    const second = await first.context().newPage();
    await second.goto(`${f.base}/profile`);
    await expect.poll(() => heading(second)).toBe("Profile");
    await first.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => first.getByRole("status").textContent()).toBe(SIGNED_OUT);
    return { user, first, second };
  }

  it("a password change there reaches sign-in saying nothing was done, and the password is unchanged", async () => {
    const { user, second } = await twoSignedInTabs();
    await second.getByLabel("Current password").fill(user.password);
    await second.getByLabel("New password", { exact: true }).fill("a long new passphrase here");
    await second.getByLabel("Confirm new password").fill("a long new passphrase here");
    await second.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => second.getByRole("status").textContent()).toBe(ENDED_FORM);
    expect(await heading(second)).toBe("Log in to FAMOS");
    // Nothing was done: the old password still signs in.
    await signInInBrowser(second, smtpMailbox(f.t.smtp), user);
    // The portal's tabs, which OTP capture (where a refused code would leave it) does not have.
    await expect.poll(() => second.getByRole("navigation", { name: "FAMOS sections" }).getByRole("link", { name: "Profile" }).count()).toBe(1);
    expect(await second.textContent("body")).not.toContain("Not allowed");
  });

  it("Sign out there lands on the signed-out sign-in page", async () => {
    const { second } = await twoSignedInTabs();
    await second.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => second.getByRole("status").textContent()).toBe(SIGNED_OUT);
    expect(await heading(second)).toBe("Log in to FAMOS");
  });

  it("once someone has signed in again in that browser, the old tab's form is still refused", async () => {
    const { user, first, second } = await twoSignedInTabs();
    await signInInBrowser(first, smtpMailbox(f.t.smtp), user);
    await expect.poll(() => first.getByRole("navigation", { name: "FAMOS sections" }).getByRole("link", { name: "Profile" }).count()).toBe(1);
    await second.getByLabel("Current password").fill(user.password);
    await second.getByLabel("New password", { exact: true }).fill("a long new passphrase here");
    await second.getByLabel("Confirm new password").fill("a long new passphrase here");
    const answer = second.waitForResponse((response) => response.request().method() === "POST");
    await second.getByRole("button", { name: "Change password" }).click();
    expect((await answer).status()).toBe(403);
    await expect.poll(() => second.textContent("body")).toContain(CSRF_REFUSED);
  });
});
