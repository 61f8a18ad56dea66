import { testLoginDigest } from "../support/login-counter.ts";
import type { LightMyRequestResponse } from "fastify";
import { IntlMessageFormat } from "intl-messageformat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";
import { formatDate } from "../../src/platform/format.ts";
import { FIXED_ZONES, type Locale } from "../../src/i18n/locales.ts";
import { recordFailure } from "../../src/regulation/throttle.ts";
import { FormClient, signIn, type TestUser } from "../support/client.ts";
import { openTemporaryPasswordForm } from "../support/temporary-password-form.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { setUpAppOnProfile } from "../strong-factors/helpers.ts";

/**
 * Issue 16 point 2: the support console (and the development mailbox) speak the support user's saved
 * language. Every console page is fetched as a German and as a French support user; each must show
 * its own labels, and no English sentence of the console's catalogue namespaces may appear: a leak
 * detector that fails when someone adds English text to a console page later.
 */

const NAMESPACES = ["console.", "rollout.", "mailbox.", "said.console.", "said.event."];
const LITERAL = 0;
type Element = { type: number; value?: string; options?: Record<string, { value: Element[] }> };

/** The literal runs of an ICU message (plural branches included), as a reader would see them. */
function literals(source: string): string[] {
  const out: string[] = [];
  const walk = (elements: Element[]) => {
    for (const e of elements) {
      if (e.type === LITERAL && e.value) out.push(e.value);
      for (const option of Object.values(e.options ?? {})) walk(option.value);
    }
  };
  walk(new IntlMessageFormat(source, "en-GB", undefined, { ignoreTag: true }).getAst() as unknown as Element[]);
  return out;
}

/** English runs longer than 12 characters that the translation does not share (names such as FAMOS_TRUSTED_NETWORKS do). */
function englishRuns(locale: Locale): string[] {
  const english = CATALOGUES["en-GB"] as Record<string, string>;
  const translated = CATALOGUES[locale] as Record<string, string>;
  const runs = new Set<string>();
  for (const [key, source] of Object.entries(english)) {
    if (!NAMESPACES.some((n) => key.startsWith(n)) || translated[key] === source) continue;
    // An audit detail's English is the record's own field name or value ("undeliverable", also a heading's
    // id on Needs attention): audit-detail-words.unit checks those words against each language directly.
    if (key.startsWith("console.detail.")) continue;
    for (const run of literals(source).map((r) => r.trim())) if (run.length > 12 && !translated[key]!.includes(run)) runs.add(run);
  }
  return [...runs];
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
const decode = (body: string) => body.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);

interface Expected {
  role: "support" | "admin";
  zone: string;
  /** A label of each page, in the language. */
  labels: Record<string, string>;
}

const GERMAN: Expected = {
  role: "support",
  zone: "Europe/Berlin",
  labels: {
    users: "<h1>Support-Konsole</h1>",
    results: "Benutzer passen zu „Smith“",
    user: "Letzte Sicherheitsereignisse",
    mismatch: "Die Partnernummer passt nicht zum Konto.",
    resetConfirm: "Zurücksetzen bestätigen",
    temporary: "Temporäres Passwort festlegen",
    temporaryConfirm: "Temporäres Passwort bestätigen",
    temporaryShown: "Temporäres Passwort:",
    factors: "Zweite Faktoren von",
    newUser: "<h1>Benutzer anlegen</h1>",
    created: "erstellt</h1>",
    exists: "existiert bereits",
    notices: "Mitteilung veröffentlichen",
    notice: "Die Mitteilung steht im Banner des Portals.",
    noticeError: "Geben Sie einen Titel von 1 bis 100 Zeichen",
    noticeEnded: "Diese Mitteilung ist beendet",
    audit: "Ereignisse anzeigen",
    auditError: "Es gibt kein Ereignis namens „bogus“.",
    attention: "Unzustellbare OTP-E-Mail",
    addresses: "Adresse entsperren",
    rollout: "Registrierungen pro Tag",
    rolloutError: "Der Beginn muss ein Datum mit Uhrzeit sein",
    disabled: "Das Konto wurde deaktiviert",
    mailbox: "Entwicklungs-Postfach",
    message: "Zurück zum Postfach",
    own: "Sie können Ihr eigenes Konto nicht zurücksetzen",
  },
};

const FRENCH: Expected = {
  role: "admin",
  zone: "Europe/Paris",
  labels: {
    users: "<h1>Console d’assistance</h1>",
    results: "utilisateurs correspondent à « Smith »",
    user: "Événements de sécurité récents",
    mismatch: "Le numéro de partenaire ne correspond pas au compte.",
    resetConfirm: "Confirmer la réinitialisation",
    temporary: "Définir un mot de passe temporaire",
    temporaryConfirm: "Confirmer le mot de passe temporaire",
    temporaryShown: "Mot de passe temporaire :",
    factors: "Supprimer les seconds facteurs de",
    newUser: "<h1>Créer un utilisateur</h1>",
    created: "créé</h1>",
    exists: "existe déjà",
    notices: "Publier un avis",
    notice: "L’avis figure dans le bandeau du portail.",
    noticeError: "Saisissez un titre de 1 à 100 caractères",
    noticeEnded: "Cet avis est terminé",
    audit: "Afficher les événements",
    auditError: "Il n’existe pas d’événement nommé « bogus ».",
    attention: "E-mail OTP impossible à atteindre",
    addresses: "Débloquer l’adresse",
    rollout: "Inscriptions par jour",
    rolloutError: "Le début doit être une date et une heure",
    disabled: "Le compte a été désactivé",
    mailbox: "Boîte aux lettres de développement",
    message: "Retour à la boîte aux lettres",
    own: "Vous ne pouvez pas réinitialiser ni déverrouiller votre propre compte",
  },
};

describe.each([
  ["de", GERMAN],
  ["fr", FRENCH],
] as const)("the support console in the support user's saved language (%s)", (locale, expected) => {
  let u: UnitApp;
  let agent: FormClient;
  let me: TestUser;
  let target: TestUser;
  let victim: TestUser;
  const pages: [string, LightMyRequestResponse][] = [];

  /** Fetches a page, keeps it for the leak detector, and checks its status and its label in the language. */
  async function seen(name: string, answer: Promise<LightMyRequestResponse>, status = 200): Promise<LightMyRequestResponse> {
    const page = await answer;
    pages.push([name, page]);
    expect(page.statusCode, name).toBe(status);
    const label = expected.labels[name];
    if (label) expect(decode(page.body), name).toContain(label);
    return page;
  }

  beforeAll(async () => {
    // No FAMOS_SMTP_URL: development mode with the mailbox page; codes are read from the outbox.
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const app = { app: u.app, mailbox: u.mailbox, deps: u.deps };
    me = await addUser(u.deps, { role: expected.role, loginId: `agent.${locale}`, email: `agent.${locale}@famos.test` });
    agent = (await signIn(app, { user: me })).client;
    // The saved choice, as the support user makes it on Profile.
    expect((await agent.post("/profile/language", { locale, timeZone: expected.zone })).statusCode).toBe(303);

    target = await addUser(u.deps, { loginId: `target.${locale}`, fullName: "Jane Smith", partnerNumber: "01234", email: `shared.${locale}@dealer.example` });
    const signedIn = await signIn(app, { user: target });
    await setUpAppOnProfile(u as unknown as TestApp, signedIn.client);
    await addUser(u.deps, { loginId: `sharer.${locale}`, fullName: "John Smith", email: `shared.${locale}@dealer.example` });
    victim = await addUser(u.deps, { loginId: `victim.${locale}`, fullName: "Vic Smith", partnerNumber: "04321" });
    const now = u.clock.now();
    for (let i = 0; i < 5; i += 1) await recordFailure(u.deps.db, "password", { loginKey: testLoginDigest(target.login_id.toLowerCase()), ip: "10.8.8.8" }, now, u.config);
    for (let i = 0; i < 50; i += 1) await recordFailure(u.deps.db, "password", { loginKey: testLoginDigest(`spray.${i}`), ip: "203.0.113.9" }, now, u.config);
    const mail = await u.deps.db.selectFrom("outbox").select("id").where("recipient", "=", target.otp_email!).executeTakeFirstOrThrow();
    await recordBounce(u.deps, { outboxId: mail.id, kind: "hard", status: "5.1.1", reason: "550 5.1.1 mailbox unknown" }, "webhook");
  });
  afterAll(async () => u?.close());

  it("shows every console page, each confirm step and the development mailbox in the language", async () => {
    await seen("users", agent.get("/support"));
    await seen("results", agent.get("/support?q=Smith"));
    await seen("none", agent.get("/support?q=nobody-at-all&disabled=yes"));
    await seen("user", agent.get(`/support/users/${target.id}`));
    await seen("own", agent.get(`/support/users/${me.id}`));
    const identity = { name: "Jane Smith", loginId: target.login_id, partnerNumber: "01234", ticket: "INC-16" };
    await seen("mismatch", agent.post(`/support/users/${target.id}/reset`, { ...identity, partnerNumber: "9999" }), 400);
    await seen("resetConfirm", agent.post(`/support/users/${target.id}/reset`, identity));
    await seen("factors", agent.post(`/support/users/${target.id}/factors`, {}));

    const victimIdentity = { name: "Vic Smith", loginId: victim.login_id, partnerNumber: "04321", ticket: "INC-17", formStamp: await openTemporaryPasswordForm(agent, victim.id) };
    await seen("temporary", agent.get(`/support/users/${victim.id}/temporary-password`));
    await seen("temporaryConfirm", agent.post(`/support/users/${victim.id}/temporary-password`, victimIdentity));
    await seen("temporaryShown", agent.post(`/support/users/${victim.id}/temporary-password/confirm`, victimIdentity));
    await agent.get(`/support/users/${victim.id}`);
    expect((await agent.post(`/support/users/${victim.id}/disable`, {})).statusCode).toBe(303);
    await seen("disabled", agent.get(`/support/users/${victim.id}?done=disabled`));
    for (const done of ["reset", "unlocked", "role", "role-unchanged", "factors-removed", "enabled", "already-disabled", "already-enabled"]) {
      await seen(`done-${done}`, agent.get(`/support/users/${target.id}?done=${done}`));
    }

    await seen("newUser", agent.get("/support/users/new"));
    await seen("created", agent.post("/support/users/new", { loginId: `new.${locale}`, fullName: "New Person", partnerNumber: "01234", role: "user", email: "" }));
    await agent.get("/support/users/new");
    await seen("exists", agent.post("/support/users/new", { loginId: `new.${locale}`, fullName: "New Person", partnerNumber: "01234", role: "user", email: "" }), 409);
    await agent.get("/support/users/new");
    await seen("invalid", agent.post("/support/users/new", { loginId: "has space", fullName: "New Person", partnerNumber: "01234", role: "user", email: "" }), 400);

    await seen("notices", agent.get("/support/notices"));
    const posted = await agent.post("/support/notices", { title: "Application Issue", body: "Quotes are slow.\n\nWe are on it." });
    expect(posted.statusCode).toBe(303);
    await seen("notice", agent.get(`${posted.headers.location}`));
    await seen("noticeError", agent.post("/support/notices", { title: "", body: "" }), 400);
    const id = String(posted.headers.location).split("/").pop()!.split("?")[0]!;
    await agent.get(`/support/notices/${id}`);
    await agent.post(`/support/notices/${id}/end`, {});
    await seen("noticeEnded", agent.get(`/support/notices/${id}`));

    await seen("audit", agent.get(`/support/audit?user=${target.login_id}`));
    await seen("auditError", agent.get("/support/audit?event=bogus&from=yesterday"), 400);
    await seen("attention", agent.get("/support/attention"));
    await seen("addresses", agent.get("/support/addresses"));
    await seen("addressError", agent.post("/support/addresses/unlock", { address: "not an address" }), 400);
    await seen("rollout", agent.get("/support/rollout"));
    if (expected.role === "admin") {
      await seen("rolloutError", agent.post("/support/rollout/plan", { partner: "", from: "soon" }), 400);
      await agent.get("/support/rollout");
      expect((await agent.post("/support/rollout/plan", { partner: "01234", from: "2027-01-11T07:00" })).statusCode).toBe(303);
      await seen("rolloutSet", agent.get("/support/rollout?done=set"));
    }

    const mailbox = await seen("mailbox", agent.get("/dev/mailbox"));
    const message = /href="(\/dev\/mailbox\/[^"]+)"/.exec(mailbox.body)![1]!;
    await seen("message", agent.get(message));

    for (const [name, page] of pages) expect(page.body, name).toContain(`<html lang="${locale}"`);
  });

  it("leaks no English sentence of the console's catalogue into any of those pages", () => {
    // The pages are the previous test's: run the describe block whole.
    expect(pages.length).toBeGreaterThan(30);
    const runs = englishRuns(locale);
    expect(runs.length).toBeGreaterThan(200);
    const leaks = pages.flatMap(([name, page]) => {
      const body = decode(page.body);
      return runs.filter((run) => body.includes(run)).map((run) => `${name}: ${run}`);
    });
    expect(leaks).toEqual([]);
  });

  it("escapes what support typed inside a translated sentence with markup (the ticket on the confirm step)", async () => {
    await agent.get(`/support/users/${target.id}`);
    const identity = { name: "Jane Smith", loginId: target.login_id, partnerNumber: "01234", ticket: `<img src=x onerror=alert(1)>` };
    const page = await agent.post(`/support/users/${target.id}/reset`, identity);
    expect(page.body).toContain("<strong>&lt;img src=x onerror=alert(1)&gt;</strong>");
    expect(page.body).not.toContain("<img src=x");
  });

  it("writes the days of Rollout's enrolments as the language writes dates, in its table and under its chart", async () => {
    const page = (await agent.get("/support/rollout")).body;
    // The days are FAMOS_TIMEZONE's (the caption says so); today is the last of them.
    const today = u.clock.now();
    const dayAndMonth = new Intl.DateTimeFormat(locale, { timeZone: u.config.timezone, day: "2-digit", month: "2-digit" }).format(today);
    expect(page).toContain(`<th scope="row">${formatDate(today, u.config.timezone, locale)}</th>`);
    expect(page).toContain(`font-size="11">${dayAndMonth}</text>`);
  });

  it("shows console times in the support user's zone, with the ISO 8601 form and its offset beside", async () => {
    const page = decode((await agent.get(`/support/users/${target.id}`)).body);
    const offset = expected.zone === "Europe/Berlin" || expected.zone === "Europe/Paris" ? /\+0[12]:00/ : /Z|[+-]\d\d:\d\d/;
    const iso = /<span class="iso">([^<]+)<\/span>/.exec(page)?.[1] ?? "";
    expect(iso).toMatch(offset);
  });

  it("groups Profile's time zones by region, the saved zone first, each named in the language (Intl), the IANA name the value", async () => {
    const profile = decode((await agent.get("/profile")).body);
    const select = profile.slice(profile.indexOf('<select id="timeZone"'), profile.indexOf("</select>", profile.indexOf('<select id="timeZone"')));
    const groups = [...select.matchAll(/<optgroup label="([^"]+)">/g)].map((m) => m[1]);
    expect(groups[0]).toBe(locale === "de" ? "Ihre aktuelle Zeitzone" : "Votre fuseau horaire actuel");
    expect(groups[1]).toBe(locale === "de" ? "Europa" : "Europe");
    expect(groups.length).toBeGreaterThanOrEqual(10);
    const named = locale === "de"
      ? { saved: "Deutschland, Berlin – Mitteleuropäische Zeit", vienna: "Österreich – Mitteleuropäische Zeit", rioja: "Argentinien, La Rioja – Argentinische Normalzeit", london: "Vereinigtes Königreich" }
      : { saved: "France – heure d’Europe centrale", vienna: "Autriche – heure d’Europe centrale", rioja: "Argentine, La Rioja – heure normale d’Argentine", london: "Royaume-Uni" };
    expect(select).toContain(`<optgroup label="${groups[0]}"><option value="${expected.zone}" selected>${named.saved}</option></optgroup>`);
    expect(select.match(new RegExp(`value="${expected.zone}"`, "g"))).toHaveLength(1);
    expect(select).toContain(`<option value="Europe/Vienna">${named.vienna}</option>`);
    expect(select).toContain(`<option value="America/Argentina/La_Rioja">${named.rioja}</option>`);
    expect(select).toContain(`${locale === "de" ? "FAMOS-Standard" : "Valeur par défaut de FAMOS"} (${named.london})`);
    expect(select).not.toContain(">Vienna<");
    // Intl's zones, then UTC and the fixed offsets (FIXED_ZONES), each once.
    expect(select.match(/<option value="[A-Z]/g)!.length).toBe(Intl.supportedValuesOf("timeZone").length + FIXED_ZONES.length);
    // In the reader's alphabetical order within a region: Österreich among the Os in German.
    const europe = select.slice(select.indexOf(`<optgroup label="${groups[1]}">`), select.indexOf("</optgroup>", select.indexOf(`<optgroup label="${groups[1]}">`)));
    const labels = [...europe.matchAll(/<option value="[^"]+">([^<]+)<\/option>/g)].map((m) => m[1]!);
    expect(labels).toEqual([...labels].sort(new Intl.Collator(locale).compare));
  });
});
