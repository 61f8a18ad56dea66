import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, mailedCode } from "../support/browser.ts";
import { translator, type MessageKey } from "../../src/i18n/translator.ts";

const de = (key: MessageKey) => translator("de", "Europe/London").text(key);
const it_ = (key: MessageKey) => translator("it", "Europe/London").text(key);

/**
 * QA: on a dealership's shared PC, a colleague signs in and out in another tab while "Forgot
 * password?" waits for its code (Cancel, like Sign out, renews the CSRF secret). The reset's form then
 * went to the sign-in page saying the page had been open too long: the reset left behind, the code
 * in the mail with nowhere to type it. Refused all the same, nothing done, it now comes back to its
 * own page saying so, in the reader's language, and the next try goes through.
 */
describe("a Forgot password? form whose page was left open too long comes back to its own page", () => {
  const f = useBrowserApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
  let n = 0;
  const unique = () => `stale.reset.${Date.now()}.${(n += 1)}`;

  /** A colleague in another tab of the same browser: Log in, then Cancel on OTP capture (a new CSRF secret, no session left). */
  async function colleagueSignsInAndOut(context: BrowserContext) {
    const colleague = await addUser(f.t.deps, { loginId: unique(), email: `${unique()}@dealer.example` });
    const other = await context.newPage();
    await other.goto(`${f.base}/login`);
    await other.locator("#loginId").fill(colleague.login_id);
    await other.locator("#password").fill(colleague.password);
    await other.locator("#password").press("Enter");
    await expect.poll(() => new URL(other.url()).pathname).toBe("/otp");
    await other.locator("button[formaction='/otp/cancel']").click();
    await expect.poll(() => new URL(other.url()).pathname).toBe("/login");
    // Closed once the page has loaded: Chromium drops a close that races the navigation's commit, and
    // page.close() has no timeout (as in session/stale-tab-browser; this test's CI failure).
    await other.waitForLoadState("load");
    await other.close();
  }

  async function refusedBackHere(page: Page, path: string, text: string) {
    await expect.poll(() => new URL(page.url()).pathname).toBe(path);
    await expect.poll(() => page.getByRole("status").count()).toBe(1);
    expect(await page.getByRole("status").textContent()).toBe(text);
    await expectAccessible(page);
  }

  it("step 1, the login ID (German)", async () => {
    const email = `${unique()}@dealer.example`;
    const user = await addUser(f.t.deps, { loginId: unique(), email });
    const page = await f.newPage({ locale: "de-DE" });
    await page.goto(`${f.base}/forgot-password`);
    await colleagueSignsInAndOut(page.context());
    await page.locator("#loginId").fill(user.login_id);
    await page.locator("#loginId").press("Enter");
    await refusedBackHere(page, "/forgot-password", de("login.formExpired"));
    expect(await heading(page)).toBe(de("login.forgotPassword"));
    // Nothing was done: no code went to her. (Counted by her address: the colleague's own sign-in code
    // may reach the relay only now; CI once counted it.)
    await f.t.app.afterReply.settled();
    expect(f.t.smtp.messages.filter((m) => m.envelopeTo.includes(email))).toEqual([]);
    await page.locator("#loginId").fill(user.login_id);
    await page.locator("#loginId").press("Enter");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/forgot-password/code");
  });

  it("step 2, the code and the new password (Italian): the code still works on the page it came back to", async () => {
    const email = `${unique()}@dealer.example`;
    const user = await addUser(f.t.deps, { loginId: unique(), email });
    const page = await f.newPage({ locale: "it-IT" });
    await page.goto(`${f.base}/forgot-password`);
    const before = f.t.smtp.messages.length;
    await page.locator("#loginId").fill(user.login_id);
    await page.locator("#loginId").press("Enter");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/forgot-password/code");
    const code = await mailedCode(f.t.smtp, email, before);
    await colleagueSignsInAndOut(page.context());
    const fill = async () => {
      await page.locator("#code").fill(code);
      await page.locator("#newPassword").fill("a new password for rita");
      await page.locator("#confirmNewPassword").fill("a new password for rita");
      await page.locator("#confirmNewPassword").press("Enter");
    };
    await fill();
    await refusedBackHere(page, "/forgot-password/code", it_("login.formExpired"));
    expect(await heading(page)).toBe(it_("reset.heading"));
    await fill();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
    expect(await page.getByRole("status").textContent()).toBe(it_("login.passwordReset"));
  });

  it("a post from another site, or one that does not say where it came from, is still refused, and nothing is sent", async () => {
    const email = `${unique()}@dealer.example`;
    const user = await addUser(f.t.deps, { loginId: unique(), email });
    for (const url of ["/forgot-password", "/forgot-password/code"]) {
      for (const site of [{ origin: "http://evil.example" }, { "sec-fetch-site": "cross-site" }, {}]) {
        const response = await f.t.app.inject({
          method: "POST",
          url,
          headers: { "content-type": "application/x-www-form-urlencoded", ...site },
          payload: `_csrf=forged&loginId=${user.login_id}&code=123456&newPassword=x&confirmNewPassword=x`,
        });
        expect(response.statusCode, `${url} ${JSON.stringify(site)}`).toBe(403);
        expect(response.headers["set-cookie"], `${url} ${JSON.stringify(site)}`).toBeUndefined();
      }
    }
    await f.t.app.afterReply.settled();
    // By her address: a code of the test before (a colleague's sign-in) may reach the relay only now.
    expect(f.t.smtp.messages.filter((m) => m.envelopeTo.includes(email))).toEqual([]);
  });
});
