import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

/**
 * Profile open in two tabs of the office PC, a phone's session listed in both. "End" in the first tab
 * ends it; "End" for it in the second tab, whose list is older, finds it gone: that tab comes back to
 * Profile, saying so beside the list as it is now, not to an error page that leaves Profile behind.
 */
describe("End for a session another tab has ended already", () => {
  const f = useBrowserApp();

  it("comes back to Profile saying the session had ended, the list current", async () => {
    const stamp = Date.now();
    const user = await addUser(f.t.deps, { loginId: `tabs.${stamp}`, email: `tabs.${stamp}@dealer.example` });
    const mailbox = smtpMailbox(f.t.smtp);
    const phone = await f.newPage({ userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1" });
    await signInInBrowser(phone, mailbox, user, `${f.base}/login`);
    await expect.poll(() => new URL(phone.url()).pathname).toBe("/");
    const first = await f.newPage({ locale: "en-GB" });
    await signInInBrowser(first, mailbox, user, `${f.base}/login`);
    await expect.poll(() => new URL(first.url()).pathname).toBe("/");
    const second = await first.context().newPage();
    await first.goto(`${f.base}/profile`);
    await second.goto(`${f.base}/profile`);
    const end = (p: typeof first) => p.locator("form[action^='/profile/sessions/'][action$='/end'] button");
    expect(await end(second).count()).toBe(1);

    await end(first).click();
    await expect.poll(() => first.locator("#sessions [role=status]").count()).toBe(1);
    await end(second).click();
    await expect.poll(() => heading(second)).toBe("Profile");
    expect(new URL(second.url()).pathname).toBe("/profile");
    expect(await second.locator("#sessions").textContent()).toContain("That session is no longer there to end: it may have ended already. The list shows your sessions as they are now.");
    expect(await end(second).count()).toBe(0);
    await expectAccessible(second);
  }, 90_000);
});
