import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { durationInWords } from "../../src/config/duration.ts";
import { canonicalTimeZone, matchLocale, negotiateLocale, timeZones } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { html } from "../../src/platform/html.ts";
import { findUserById } from "../../src/users/users.ts";
import { FOLLOW_BROWSER } from "../../src/users/locale.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { addUser } from "../support/app.ts";

const lang = (body: string) => /<html lang="([^"]+)"/.exec(body)?.[1];

describe("choosing the language (issue 16)", () => {
  it("reads Accept-Language by q-value, order among equals, refusals and wildcards", () => {
    expect(negotiateLocale("de-DE,de;q=0.9,en;q=0.8")).toBe("de");
    expect(negotiateLocale("en-US;q=0.5, fr-CH;q=0.9")).toBe("fr");
    expect(negotiateLocale("pt-BR, nl;q=0.3, it;q=0.3")).toBe("nl");
    expect(negotiateLocale("*;q=0.5, es")).toBe("es");
    expect(negotiateLocale("de;q=0, fr;q=0.1")).toBe("fr");
    expect(negotiateLocale("de-AT;q=0, de;q=0.9")).toBeNull();
    expect(negotiateLocale("ja, zh;q=0.9, *")).toBeNull();
    expect(negotiateLocale("de;q=2, fr;q=abc, it;q=0.5")).toBe("it");
    expect(negotiateLocale("<script>, en")).toBe("en-GB");
    expect(negotiateLocale("")).toBeNull();
    expect(negotiateLocale(undefined)).toBeNull();
    expect(negotiateLocale(`${"x-".repeat(2000)}de`)).toBeNull();
    expect(matchLocale("en-US")).toBe("en-GB");
    expect(matchLocale("nl_BE")).toBe("nl");
  });

  it("knows IANA zones and nothing else, each by the name Intl's list gives it", () => {
    expect(canonicalTimeZone("Europe/Berlin")).toBe("Europe/Berlin");
    // A link Intl's list does not show is kept by the name the list shows for it.
    expect(timeZones()).toContain(canonicalTimeZone("America/Argentina/Buenos_Aires"));
    expect(canonicalTimeZone("europe/LONDON")).toBe("Europe/London");
    expect(canonicalTimeZone("GB")).toBe("Europe/London");
    expect(canonicalTimeZone("Mars/Olympus_Mons")).toBeNull();
    expect(canonicalTimeZone("../../etc")).toBeNull();
    expect(canonicalTimeZone("")).toBeNull();
  });

  it("validates FAMOS_DEFAULT_LOCALE at startup", () => {
    const bad = loadConfig({ FAMOS_DEFAULT_LOCALE: "klingon" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join("\n")).toMatch(/FAMOS_DEFAULT_LOCALE.*en-GB, de, fr, it, es, nl/);
    const good = loadConfig({ FAMOS_DEFAULT_LOCALE: "nl" });
    expect(good.ok && good.config.defaultLocale).toBe("nl");
  });
});

describe("the translator (issue 16)", () => {
  it("keeps English durations word for word and says them in each language", () => {
    const en = translator("en-GB", "Europe/London");
    for (const ms of [1000, 30_000, 90_000, 15 * 60_000, 3_600_000, 5_400_000, 86_400_000 + 60_000, 2 * 86_400_000 + 1000]) {
      expect(en.duration(ms)).toBe(durationInWords(ms));
    }
    expect(translator("de", "UTC").duration(5_400_000)).toBe("1 Stunde 30 Minuten");
    expect(translator("fr", "UTC").duration(30_000)).toBe("30 secondes");
    expect(translator("it", "UTC").duration(60_000 * 15)).toBe("15 minuti");
    expect(translator("es", "UTC").duration(86_400_000)).toBe("1 día");
    expect(translator("nl", "UTC").duration(2 * 3_600_000)).toBe("2 uur");
  });

  it("shows times in the reader's zone and language, the zone named as people say it, and ISO 8601 with the offset", () => {
    const at = Date.UTC(2026, 6, 1, 12, 5, 9); // summer: Berlin +02:00, London +01:00
    const de = translator("de", "Europe/Berlin");
    expect(de.dateTime(at)).toBe("01.07.2026 14:05");
    expect(de.zone(at)).toBe("Mitteleuropäische Zeit");
    expect(de.iso(at)).toBe("2026-07-01T14:05:09+02:00");
    const en = translator("en-GB", "Europe/London");
    expect([en.dateTime(at), en.timeWithSeconds(at), en.zone(at), en.iso(at)]).toEqual(["01/07/2026 13:05", "13:05:09", "UK time", "2026-07-01T13:05:09+01:00"]);
    expect(translator("fr", "Europe/London").zone(at)).toBe("heure du Royaume-Uni");
    expect(translator("nl", "UTC").iso(at)).toBe("2026-07-01T12:05:09+00:00");
    expect(translator("es", "Asia/Kolkata").iso(at)).toBe("2026-07-01T17:35:09+05:30");
  });

  it("escapes every value of a message with markup, and keeps SafeHtml as it is", () => {
    const t = translator("de", "UTC");
    expect(t.html("suggestion.didYouMean", { suggestion: "<b>&x</b>" }).value).toBe("Meinten Sie <strong>&lt;b&gt;&amp;x&lt;/b&gt;</strong>?");
    expect(t.html("delivery.goesTo", { to: html`<strong>a</strong>` }).value).toBe("Ihre Codes gehen an <strong>a</strong>.");
  });

  it("says the domain's English sentences in the reader's language, placeholders included", () => {
    const de = translator("de", "UTC");
    expect(de.said("Use your work email address: addresses at evil.example are not accepted here.")).toBe(
      "Verwenden Sie Ihre dienstliche E-Mail-Adresse: Adressen bei evil.example werden hier nicht angenommen.",
    );
    expect(de.said("Choose a password of at least 12 characters.")).toBe("Wählen Sie ein Passwort mit mindestens 12 Zeichen.");
    expect(de.said("Something the catalogue does not know.")).toBe("Something the catalogue does not know.");
    expect(translator("en-GB", "UTC").said("Did you mean a@b.example?")).toBe("Did you mean a@b.example?");
  });
});

describe("language and time zone in requests (issue 16)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  it("answers in the browser's language, else FAMOS_DEFAULT_LOCALE, with lang on the page", async () => {
    expect(lang((await new FormClient(u.app, "127.0.0.1", { "accept-language": "fr-FR,fr;q=0.9" }).get("/login")).body)).toBe("fr");
    expect(lang((await new FormClient(u.app).get("/login")).body)).toBe("en-GB");
    const page = (await new FormClient(u.app, "127.0.0.1", { "accept-language": "it" }).get("/wrong-email")).body;
    expect(lang(page)).toBe("it");
    expect(page).toContain("Hai inserito un’email sbagliata?");
    // Error pages too, with the reason said in the language.
    const missing = await new FormClient(u.app, "127.0.0.1", { "accept-language": "nl" }).get("/no-such-page");
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain("Op dit adres staat geen pagina.");
  });

  it("the sign-in page's switch (plain links) sets a cookie that wins over Accept-Language; an unknown language changes nothing", async () => {
    const client = new FormClient(u.app, "127.0.0.1", { "accept-language": "de" });
    const page = (await client.get("/login?returnTo=%2Fprofile")).body;
    expect(page).toContain('<a href="/login?lang=es&amp;returnTo=%2Fprofile" hreflang="es" lang="es">Español</a>');
    const refused = await client.get("/login?lang=xx");
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("Diese Sprache gibt es in FAMOS nicht.");
    expect(client.cookies.has("famos_lang")).toBe(false);
    const switched = await client.get("/login?lang=es&returnTo=%2Fprofile");
    expect(switched.statusCode).toBe(303);
    expect(switched.headers.location).toBe("/login?returnTo=%2Fprofile");
    expect(String(switched.headers["set-cookie"])).toMatch(/famos_lang=es;.*HttpOnly.*SameSite=Lax/);
    expect(lang((await client.get("/login")).body)).toBe("es");
  });

  it("Profile saves only a shipped language and a real IANA zone; a saved choice wins over the browser", async () => {
    const { client, user } = await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps });
    for (const fields of [{ locale: "xx", timeZone: "" }, { locale: "de", timeZone: "Mars/Olympus_Mons" }, { locale: "de", timeZone: "Europe/Berlin\u0000" }]) {
      await client.get("/profile");
      const refused = await client.post("/profile/language", fields);
      expect(refused.statusCode, JSON.stringify(fields)).toBe(400);
      const stored = (await findUserById(u.deps.db, user.id))!;
      expect([stored.locale, stored.time_zone]).toEqual([null, null]);
    }
    await client.get("/profile");
    const saved = await client.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" });
    expect(saved.headers.location).toBe("/profile?done=settings-saved");
    const page = (await client.get("/profile?done=settings-saved")).body;
    expect(lang(page)).toBe("de");
    expect(page).toContain("Ihre Sprache und Zeitzone wurden gespeichert.");
    expect(page).toContain("(Mitteleuropäische Zeit)");
    const stored = (await findUserById(u.deps.db, user.id))!;
    expect([stored.locale, stored.time_zone]).toEqual(["de", "Europe/Berlin"]);
    // Back to "as the browser asks".
    // Stored as that choice (FOLLOW_BROWSER), no language: a later sign-in does not replace it.
    await client.post("/profile/language", { locale: "", timeZone: "" });
    expect((await findUserById(u.deps.db, user.id))!.locale).toBe(FOLLOW_BROWSER);
  });

  // Red team 2026-12-07: "europe/london" (a crafted post; the list offers only Intl's names) was stored
  // as typed, so mails said "United Kingdom Time" for "UK time" and Profile's list selected nothing.
  it("Profile stores a zone typed in another case as Intl's list names it, so mails and the list know it", async () => {
    const { client, user } = await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps });
    for (const [typed, canonical] of [["europe/london", "Europe/London"], ["AMERICA/NEW_YORK", "America/New_York"]] as const) {
      await client.get("/profile");
      expect((await client.post("/profile/language", { locale: "en-GB", timeZone: typed })).statusCode, typed).toBe(303);
      expect((await findUserById(u.deps.db, user.id))!.time_zone, typed).toBe(canonical);
    }
    await client.post("/profile/language", { locale: "en-GB", timeZone: "europe/london" });
    const page = (await client.get("/profile")).body;
    expect(page).toContain("times are shown in your time zone (UK time)");
    expect(page).toMatch(/<option value="Europe\/London" selected>/);
  });

  it("reads FAMOS_TIMEZONE as Intl names it, whatever its case; a name Intl does not know is refused", () => {
    const typed = loadConfig({ FAMOS_TIMEZONE: "europe/berlin" });
    expect(typed.ok && typed.config.timezone).toBe("Europe/Berlin");
    const unknown = loadConfig({ FAMOS_TIMEZONE: "Mars/Olympus_Mons" });
    expect(!unknown.ok && unknown.errors.join("\n")).toMatch(/FAMOS_TIMEZONE: is not a time zone name/);
  });

  it("a signed-in user's saved language wins on the page for an address FAMOS has no page at, too", async () => {
    const { client, user } = await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps });
    await u.deps.db.updateTable("users").set({ locale: "de", time_zone: "Europe/Berlin" }).where("id", "=", user.id).execute();
    const english = new FormClient(u.app, client.ip, { "accept-language": "en-GB,en;q=0.9" });
    for (const [name, value] of client.cookies) english.cookies.set(name, value);
    expect(lang((await english.get("/profile")).body)).toBe("de");
    const missing = await english.get("/support/user/typo");
    expect(missing.statusCode).toBe(404);
    expect(lang(missing.body)).toBe("de");
    expect(missing.body).toContain("Seite nicht gefunden");
    // Signed out, the browser's language again.
    expect(lang((await new FormClient(u.app, client.ip, { "accept-language": "en-GB" }).get("/support/user/typo")).body)).toBe("en-GB");
  });

  it("a signed-in user's saved language wins on the page of a form refused before its route (expired token, wrong kind of body)", async () => {
    const { client, user } = await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps });
    await u.deps.db.updateTable("users").set({ locale: "de", time_zone: "Europe/Berlin" }).where("id", "=", user.id).execute();
    const english = new FormClient(u.app, client.ip, { "accept-language": "en-GB,en;q=0.9" });
    for (const [name, value] of client.cookies) english.cookies.set(name, value);
    await english.get("/profile");
    const expired = await english.post("/profile/language", { locale: "fr", timeZone: "" }, { csrf: "an-expired-token" });
    expect(expired.statusCode).toBe(403);
    expect(lang(expired.body)).toBe("de");
    expect(expired.body).toContain("Nicht erlaubt");
    const json = await english.post("/profile/language", {}, { headers: { "content-type": "application/json" } });
    expect(json.statusCode).toBe(415);
    expect(lang(json.body)).toBe("de");
    expect((await findUserById(u.deps.db, user.id))!.locale).toBe("de");
  });

  it("mails follow the recipient's saved language and zone, not the language of whoever caused them", async () => {
    const user = await addUser(u.deps);
    await u.deps.db.updateTable("users").set({ locale: "fr", time_zone: "America/New_York" }).where("id", "=", user.id).execute();
    // A stranger with an English browser types wrong passwords until the lock mail goes out.
    const stranger = new FormClient(u.app, "203.0.113.9", { "accept-language": "en-GB" });
    for (let i = 0; i < u.config.lock.after; i++) {
      await stranger.get("/login");
      await stranger.post("/login", { loginId: user.login_id, password: "wrong password here" });
    }
    const mail = await u.deps.db.selectFrom("outbox").selectAll().where("user_id", "=", user.id).where("kind", "=", "lock").executeTakeFirstOrThrow();
    expect(mail.subject).toBe("Connexion à FAMOS suspendue");
    expect(mail.text_body).toContain("5 mots de passe erronés");
    expect(mail.html_body).toContain('<html lang="fr">');
  });
});
