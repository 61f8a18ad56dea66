import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

const MINUTE = 60_000;
const ENDED = "Your session has ended (after a while without activity, or it was ended elsewhere). Sign in again to go on.";
/** After a signed-in page's form: what it asked was not done. */
const ENDED_FORM = "Your session ended before FAMOS received the form, so nothing was done: sign in and do it again.";

/**
 * A salesperson leaves FAMOS open past FAMOS_SESSION_IDLE (30 minutes) and comes back: whatever they
 * click or submit, the sign-in page says why they are there, and after signing in again they go on
 * where they were going. Without a word, a form typed in full (a password change) seemed to vanish.
 */
describe("a session that idled out, in a browser", () => {
  const f = useBrowserApp();

  it("a link, a form and a reload after 31 idle minutes each reach sign-in saying the session ended; a fresh sign-in page does not", async () => {
    const user = await addUser(f.t.deps, { email: "pat.idle@dealer.example" });
    const page = await f.newPage({ viewport: { width: 375, height: 667 } });
    await page.goto(`${f.base}/login`);
    expect(await page.textContent("main")).not.toContain(ENDED);
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user);
    const tabs = page.getByRole("navigation", { name: "FAMOS sections" });
    await expect.poll(() => tabs.getByRole("link", { name: "Profile" }).count()).toBe(1);

    // A link: sign-in says why, and the sign-in after it goes on to Profile.
    f.t.clock.advance(31 * MINUTE);
    await tabs.getByRole("link", { name: "Profile" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe(ENDED);
    expect(await heading(page)).toBe("Log in to FAMOS");
    await expectAccessible(page);
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user);
    await expect.poll(() => heading(page)).toBe("Profile");

    // A form typed in full: sign-in says it was not done.
    await page.getByLabel("Current password").fill(user.password);
    f.t.clock.advance(31 * MINUTE);
    await page.getByLabel("New password", { exact: true }).fill("a long new passphrase here");
    await page.getByLabel("Confirm new password").fill("a long new passphrase here");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe(ENDED_FORM);

    // The portal's home reloaded.
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user);
    await expect.poll(() => tabs.getByRole("link", { name: "Profile" }).count()).toBe(1);
    f.t.clock.advance(31 * MINUTE);
    await page.goto(`${f.base}/`);
    await expect.poll(() => page.getByRole("status").textContent()).toBe(ENDED);
  });
});
