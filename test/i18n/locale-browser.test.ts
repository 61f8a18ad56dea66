import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { LOCALES, type Locale } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading } from "../support/browser.ts";
import { extractCode } from "../support/smtp.ts";

const NOW = Date.UTC(2026, 10, 28, 14, 0, 0); // 14:00 UTC: 15:00 in Berlin (CET)
const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/i18n");

const lang = (page: Page) => page.evaluate(() => document.documentElement.lang);
/** Nothing pushes the page wider than the window (issue 16.4). */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/**
 * Issue 16: the guide's walk in German by the German labels, the switch to French, every language at 390 px.
 * axe: every language on each step of the guide at 390 px (the it.each below); the German walk checks
 * only the states that one does not show in German (OTP capture with the mail's status, the saved
 * language in French), an axe pass costing about a second of the 2-core CI machine.
 */
describe("every screen and email in the dealer's language (browser)", () => {
  const f = useBrowserApp({ clock: new FixedClock(NOW) });

  it("walks the guide in German from Accept-Language: de-DE, and mails the code in German in Berlin time", async () => {
    const user = await addUser(f.t.deps, { email: null, loginId: "m.mueller" });
    await f.t.deps.db.updateTable("users").set({ time_zone: "Europe/Berlin" }).where("id", "=", user.id).execute();
    const page = await f.newPage({ locale: "de-DE" });
    await page.goto(`${f.base}/`);
    expect(await lang(page)).toBe("de");
    expect(await heading(page)).toBe("Bei FAMOS anmelden");
    await page.getByLabel("Anmelde-ID").fill(user.login_id);
    await page.getByLabel("Passwort").fill(user.password);
    await page.getByRole("button", { name: "Anmelden" }).click();

    await expect.poll(() => heading(page)).toBe("Benutzerprofil");
    await page.getByLabel("E-Mail-Adresse", { exact: true }).fill("m.mueller@autohaus.example");
    await page.getByLabel("E-Mail-Adresse bestätigen").fill("m.mueller@autohaus.example");
    await page.getByRole("button", { name: "Aktualisieren" }).click();

    await expect.poll(() => heading(page)).toBe("OTP-Eingabe");
    await expectAccessible(page);
    // The page updates itself once the mail has gone (it may still be queued when the page loads).
    await expect.poll(() => page.textContent("#delivery"), { timeout: 20_000 }).toContain("Wir haben um 15:00 einen Code an m•••@autohaus.example gesendet; er gilt bis 15:15 (Mitteleuropäische Zeit).");
    for (const name of ["Bestätigen", "Abbrechen", "OTP neu erzeugen"]) expect(await page.getByRole("button", { name }).count()).toBe(1);

    // The code email, in German, the time in the user's zone (SMTP, parsed by mailparser).
    const mail = await f.t.smtp.waitForMessage((m) => m.envelopeTo.includes("m.mueller@autohaus.example"));
    expect(mail.subject).toBe("Ihr FAMOS-Einmalkennwort");
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain("Ihr FAMOS-Einmalkennwort lautet:");
      expect(part).toContain("Der Code gilt 15 Minuten, bis 15:15 Uhr am 28.11.2026 (Mitteleuropäische Zeit).");
    }
    expect(mail.html).toContain('<html lang="de">');
    expect((await f.t.deps.db.selectFrom("users").select("locale").where("id", "=", user.id).executeTakeFirstOrThrow()).locale).toBe("de");

    await page.getByLabel("Bitte geben Sie den erhaltenen Code ein").fill("000000");
    await page.getByRole("button", { name: "Bestätigen" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Dieser Code ist nicht richtig. Sie haben noch 4 Versuche.");
    await page.getByLabel("Bitte geben Sie den erhaltenen Code ein").fill(extractCode(mail.text));
    await page.getByRole("button", { name: "Bestätigen" }).click();

    const tabs = page.getByRole("navigation", { name: "FAMOS-Bereiche" });
    await expect.poll(() => tabs.getByRole("link", { name: "Profil" }).count()).toBe(1);
    await tabs.getByRole("link", { name: "Profil" }).click();
    await expect.poll(() => heading(page)).toBe("Profil");
    expect(await page.textContent("main")).toContain("OTP-E-Mail-Adresse ändern");

    // Profile: "Sprache" → Français; the choice is saved for the user and wins over the browser.
    await page.getByLabel("Sprache", { exact: true }).selectOption("fr");
    await page.getByRole("button", { name: "Sprache und Zeitzone speichern" }).click();
    await expect.poll(() => lang(page)).toBe("fr");
    expect(await page.getByRole("status").first().textContent()).toBe("Votre langue et votre fuseau horaire ont été enregistrés.");
    expect(await page.textContent("main")).toContain("Changer l’adresse e-mail OTP");
    await expectAccessible(page);
    expect((await f.t.deps.db.selectFrom("users").select(["locale", "time_zone"]).where("id", "=", user.id).executeTakeFirstOrThrow())).toEqual({ locale: "fr", time_zone: "Europe/Berlin" });
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Anmelden" }).count()).toBe(1);
  }, 180_000);

  it("switches the signed-out sign-in page to French with a plain link, and remembers it", async () => {
    const page = await f.newPage({ locale: "de-DE" });
    await page.goto(`${f.base}/login`);
    expect(await lang(page)).toBe("de");
    await page.getByRole("link", { name: "Français" }).click();
    await expect.poll(() => lang(page)).toBe("fr");
    expect(await heading(page)).toBe("Connexion à FAMOS");
    expect(await page.getByRole("button", { name: "Se connecter" }).count()).toBe(1);
    await expectAccessible(page);
    await page.goto(`${f.base}/wrong-email`);
    expect(await lang(page)).toBe("fr");
    const cookie = (await page.context().cookies()).find((c) => c.name === "famos_lang");
    expect(cookie).toMatchObject({ value: "fr", httpOnly: true, sameSite: "Lax" });
  }, 90_000);

  it.each(LOCALES)("%s: every step of the guide passes axe and fits 390 px; OTP capture is photographed", async (locale: Locale) => {
    const t = translator(locale, "Europe/London");
    const user = await addUser(f.t.deps, { email: null });
    const address = `${user.login_id}@ein-sehr-langer-autohausname.example`;
    const page = await f.newPage({ locale, viewport: { width: 390, height: 844 } });
    await page.goto(`${f.base}/login`);
    expect(await lang(page)).toBe(locale);
    await expectAccessible(page);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.getByLabel(t.text("field.loginId")).fill(user.login_id);
    await page.getByLabel(t.text("field.password")).fill(user.password);
    await page.getByRole("button", { name: t.text("login.submit"), exact: true }).click();

    await expect.poll(() => heading(page)).toBe(t.text("enrol.heading"));
    await expectAccessible(page);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.getByLabel(t.text("field.email"), { exact: true }).fill(address);
    await page.getByLabel(t.text("field.confirmEmail")).fill(address);
    await page.getByRole("button", { name: t.text("enrol.update") }).click();

    await expect.poll(() => heading(page)).toBe(t.text("otp.heading"));
    await page.getByLabel(t.text("code.label")).fill("000000");
    await page.getByRole("button", { name: t.text("code.confirm") }).click();
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    await expectAccessible(page);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `otp-capture-390-${locale}.png`), fullPage: true });

    const mail = await f.t.smtp.waitForMessage((m) => m.envelopeTo.includes(address));
    expect(mail.subject).toBe(t.text("mail.code.subject"));
    await page.getByLabel(t.text("code.label")).fill(extractCode(mail.text));
    await page.getByRole("button", { name: t.text("code.confirm") }).click();
    const tabs = page.getByRole("navigation", { name: t.text("layout.sections") });
    await expect.poll(() => tabs.getByRole("link", { name: t.text("layout.profile") }).count()).toBe(1);
    await expectAccessible(page);
    await tabs.getByRole("link", { name: t.text("layout.profile") }).click();
    await expect.poll(() => heading(page)).toBe(t.text("profile.heading"));
    await expectAccessible(page);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
  }, 180_000);
});
