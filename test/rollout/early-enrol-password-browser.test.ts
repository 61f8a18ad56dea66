import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { heading, logInByKeyboard } from "../support/browser.ts";

const DAY = 86_400_000;
const en = translator("en-GB", "Europe/London");

/**
 * Early enrolment's password (`/rollout/enrol`, requireFreshProof) with "Did you mean …?" (issue 15),
 * in Chromium: what the person typed and chose is kept through a wrong password, and "Use …" takes the
 * password typed on the page, so neither answer is a loop of the same question. The password's hint
 * is early enrolment's own, not Profile's "…to change the address" (there is no address to change).
 */
describe("early enrolment: the password with \"Did you mean …?\"", { timeout: 120_000 }, () => {
  const f = useBrowserApp();
  let partner = 0;

  /** A user before their wave, signed in with the password alone, on the early enrolment form. */
  async function onTheForm(page: Page) {
    const start = f.t.clock.now();
    const number = `epw${(partner += 1)}`;
    await setWaveStart(f.t.deps.db, number, start + 5 * DAY, start, "test");
    const user = await addUser(f.t.deps, { email: null, partnerNumber: number });
    await logInByKeyboard(page, f.base, user);
    await page.waitForURL(`${f.base}/`);
    await page.goto(`${f.base}/rollout/enrol`);
    return user;
  }

  async function typeAddress(page: Page, address: string, password: string) {
    await page.locator("#email").fill(address);
    await page.locator("#confirmEmail").fill(address);
    await page.locator("#enrolPassword").fill(password);
    await page.getByRole("button", { name: en.text("enrol.update"), exact: true }).click();
  }

  it("keeps the typed address through a wrong password: the right one then sends the code, not the question again", async () => {
    const page = await f.newPage();
    const user = await onTheForm(page);
    const typed = "kim.keep@hotmial.co.uk";
    await typeAddress(page, typed, user.password);
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("Did you mean kim.keep@hotmail.co.uk?");
    // Keep what was typed, but with a slip in the password.
    await page.locator("#enrolPassword").fill("not the password");
    await page.getByRole("button", { name: en.text("enrol.update"), exact: true }).click();
    await expect.poll(() => page.locator("#enrol-error").innerText()).toBe(en.text("profile.passwordWrong"));
    await page.locator("#enrolPassword").fill(user.password);
    await page.getByRole("button", { name: en.text("enrol.update"), exact: true }).click();
    await expect.poll(() => heading(page)).toBe(en.text("otp.heading"));
    expect((await findUserById(f.t.deps.db, user.id))!.pending_email).toBe(typed);
  });

  it("\u201cUse \u2026\u201d sends the password typed on the page with the suggested address", async () => {
    const page = await f.newPage();
    const user = await onTheForm(page);
    await typeAddress(page, "lee.use@hotmial.co.uk", user.password);
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("Did you mean lee.use@hotmail.co.uk?");
    await page.locator("#enrolPassword").fill(user.password);
    await page.getByRole("button", { name: "Use lee.use@hotmail.co.uk" }).click();
    await expect.poll(() => heading(page)).toBe(en.text("otp.heading"));
    expect((await findUserById(f.t.deps.db, user.id))!.pending_email).toBe("lee.use@hotmail.co.uk");
  });

  it("hints at the password in early enrolment's own words, in each of the six languages", async () => {
    for (const locale of LOCALES) {
      const page = await f.newPage({ locale });
      await onTheForm(page);
      const t = translator(locale, "Europe/London");
      const hint = await page.locator("#enrolPasswordHint").innerText();
      expect(hint).toBe(t.text("rollout.enrolPasswordHint"));
      expect(hint).not.toBe(t.text("profile.passwordHint", { recent: t.duration(15 * 60_000) }));
    }
  });
});
