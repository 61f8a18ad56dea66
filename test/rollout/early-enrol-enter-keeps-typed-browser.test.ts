import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, logInByKeyboard } from "../support/browser.ts";

const DAY = 86_400_000;
const en = translator("en-GB", "Europe/London");

// Enter in a field presses the form's default button, its first submit button in tree order (HTML's
// implicit submission). "Use …" (form="enrol-form") once came before the form, so keeping what was typed,
// typing the password and pressing Enter sent useSuggestion: the code went to the suggested (maybe a
// stranger's) address. It now comes after "Update" (useSuggestionButton).
describe("Enter in the password field after \"Did you mean …?\"", { timeout: 120_000 }, () => {
  const f = useBrowserApp();

  async function onTheForm(page: Page) {
    const start = f.t.clock.now();
    await setWaveStart(f.t.deps.db, "rvw1", start + 5 * DAY, start, "test");
    const user = await addUser(f.t.deps, { email: null, partnerNumber: "rvw1" });
    await logInByKeyboard(page, f.base, user);
    await page.waitForURL(`${f.base}/`);
    await page.goto(`${f.base}/rollout/enrol`);
    return user;
  }

  it("keeps the typed address when the person presses Enter in the password field, and passes axe", async () => {
    const page = await f.newPage();
    const user = await onTheForm(page);
    const typed = "kim.keep@hotmial.co.uk";
    await page.locator("#email").fill(typed);
    await page.locator("#confirmEmail").fill(typed);
    await page.locator("#enrolPassword").fill(user.password);
    await page.getByRole("button", { name: en.text("enrol.update"), exact: true }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("Did you mean kim.keep@hotmail.co.uk?");
    // "Use …" in the form's buttons after its own: the page still passes axe.
    await expectAccessible(page);
    // "Sending the form again keeps what you typed": the person types the password and presses Enter.
    await page.locator("#enrolPassword").fill(user.password);
    await page.locator("#enrolPassword").press("Enter");
    await page.waitForLoadState("load");
    await expect.poll(async () => (await findUserById(f.t.deps.db, user.id))!.pending_email).not.toBeNull();
    expect((await findUserById(f.t.deps.db, user.id))!.pending_email).toBe(typed);
  });
});
