import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, logInByKeyboard, tabTo } from "../support/browser.ts";
import { translator, type MessageKey } from "../../src/i18n/translator.ts";

const es = (key: MessageKey) => translator("es", "Europe/London").text(key);
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/**
 * Staff on a phone, keyboard only, in Spanish, with a mailbox slow to accept each mail (it answers
 * the end of DATA only once the walk is over: as slow as the 20 s it used to be on a quick machine,
 * and on a busy one too, without the app's close waiting out 20 s of real time after the test),
 * pressing Regenerate OTP twice: no crash, no dead end, nothing lost, axe clean at each step.
 */
describe("a staff walk on a phone, keyboard only, slow mail, Regenerate twice", () => {
  const f = useBrowserApp();

  it("signs in in Spanish at 360 px", async () => {
    const stamp = Date.now();
    const user = await addUser(f.t.deps, { loginId: `walk.${stamp}`, email: `walk.${stamp}@dealer.example` });
    const page = await f.newPage({ locale: "es-ES", viewport: { width: 360, height: 640 } });
    f.t.smtp.delayData(Infinity);
    try {
      await logInByKeyboard(page, f.base, user);
      await expect.poll(() => new URL(page.url()).pathname).toBe("/otp");
      await expectAccessible(page);
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      const first = await page.locator("#delivery").textContent();
      expect(first).toContain("hora del Reino Unido");
      // Regenerate at once: the wait, said in words with when.
      await tabTo(page, "button[formaction='/otp/regenerate']");
      await expect.poll(() => page.getByRole("alert").count()).toBe(1);
      const wait = await page.getByRole("alert").textContent();
      await expectAccessible(page);
      // And again, 31 s later: a new code is on its way.
      f.t.clock.advance(31_000);
      await tabTo(page, "button[formaction='/otp/regenerate']");
      await expect.poll(() => page.getByRole("status").first().textContent()).toBe(es("otp.newCode"));
      await expectAccessible(page);
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      // The time in brackets names its zone without brackets inside brackets.
      expect(first).not.toMatch(/\(\S[^()]*\([^()]*\)\)/);
      expect(wait).toMatch(/\d\d:\d\d:\d\d/);
    } finally {
      f.t.smtp.delayData(0);
    }
  });
});
