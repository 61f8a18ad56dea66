import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { heading } from "../support/browser.ts";

const DAY = 86_400_000;
const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/**
 * A temporary password on the rollout's password-only ways (before the user's wave, and "Later"), in a
 * real Chromium that reads German: "Neues Passwort wählen" first, once; the chosen password then opens
 * the portal as before, with no code asked for and no loop back.
 */
describe("a temporary password before the 2FA wave and after \"Later\", in a browser, in German", { timeout: 120_000 }, () => {
  const f = useBrowserApp({ env: { FAMOS_2FA_GRACE_SIGNINS: "3" } });

  async function logInDe(page: Page, loginId: string, password: string) {
    await page.goto(`${f.base}/login`);
    await page.getByLabel("Anmelde-ID").fill(loginId);
    await page.getByLabel("Passwort", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Anmelden" }).click();
  }
  async function chooseDe(page: Page, temporary: string, chosen: string) {
    await expect.poll(() => heading(page)).toBe("Neues Passwort wählen");
    // The temporary password again is refused in German.
    await page.getByLabel("Neues Passwort", { exact: true }).fill(temporary);
    await page.getByLabel("Neues Passwort bestätigen").fill(temporary);
    await page.getByRole("button", { name: "Passwort speichern" }).click();
    await expect.poll(async () => (await page.getByRole("alert").textContent()) ?? "").toContain("Das ist das vorläufige Passwort");
    await page.getByLabel("Neues Passwort", { exact: true }).fill(chosen);
    await page.getByLabel("Neues Passwort bestätigen").fill(chosen);
    await page.getByRole("button", { name: "Passwort speichern" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Abmelden" }).count()).toBe(1);
    expect(new URL(page.url()).pathname).toBe("/");
    await page.goto(`${f.base}/profile`);
    expect(new URL(page.url()).pathname).toBe("/profile");
  }

  it("before the wave: Choose a new password, then the portal; the new password opens it again; the temporary one is spent", async () => {
    const now = f.t.clock.now();
    await setWaveStart(f.t.deps.db, "P-LATER-B", now + 30 * DAY, now, "test");
    const user = await addUser(f.t.deps, { loginId: "early.browser", partnerNumber: "P-LATER-B", email: null });
    const temporary = "temp-early-browser-9876";
    await setTemporaryPassword(f.t.deps, operator, user.id, temporary);
    const page = await f.newPage({ locale: "de-DE" });
    await logInDe(page, "early.browser", temporary);
    await chooseDe(page, temporary, "ein eigenes langes Passwort");
    const again = await f.newPage({ locale: "de-DE" });
    await logInDe(again, "early.browser", "ein eigenes langes Passwort");
    await expect.poll(() => again.getByRole("button", { name: "Abmelden" }).count()).toBe(1);
    const spent = await f.newPage({ locale: "de-DE" });
    await logInDe(spent, "early.browser", temporary);
    await expect.poll(() => spent.getByRole("alert").count()).toBe(1);
    expect(new URL(spent.url()).pathname).toBe("/login");
  });

  it("after the wave, \"Später\" on User profile: Choose a new password, then the portal", async () => {
    const user = await addUser(f.t.deps, { loginId: "later.browser", partnerNumber: "P-NOW-B", email: null });
    const temporary = "temp-later-browser-9876";
    await setTemporaryPassword(f.t.deps, operator, user.id, temporary);
    const page = await f.newPage({ locale: "de-DE" });
    await logInDe(page, "later.browser", temporary);
    await expect.poll(() => heading(page)).toBe("Benutzerprofil");
    await page.getByRole("button", { name: "Später" }).click();
    await chooseDe(page, temporary, "noch ein eigenes Passwort");
  });
});
