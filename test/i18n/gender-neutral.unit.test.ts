import { describe, expect, it } from "vitest";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";
import type { Locale } from "../../src/i18n/locales.ts";

/**
 * The reader of a FAMOS page or mail may be a woman or a man: French, Italian and Spanish words that
 * address the reader ("vous", "tu") must not take a masculine agreement ("Vous êtes connecté", "Sei
 * uscito", "Benvenuto"). Each language says the same with a construction that does not agree with the
 * reader ("Votre session est ouverte", "Disconnessione effettuata", "Ti diamo il benvenuto"), as its
 * business software usually does, rather than with a point médian or a slash ("connecté·e", "uscito/a").
 * German, Dutch and English address the reader without agreement. A word's end is "no letter follows"
 * ((?!\p{L}), u flag): \b takes é for a non-word character, so /connecté\b/ never matched "connecté.".
 */
const GENDERED: Partial<Record<Locale, RegExp[]>> = {
  fr: [
    // être + participle or adjective agreeing with "vous" (connecté, déconnecté, seul, sûr, prêt…)
    /\bvous (?:vous )?(?:êtes|étiez|serez|soyez)\s+(?:(?:déjà|bien|toujours|encore|maintenant)\s+)?(?:connecté|déconnecté|seul|sûr|prêt|inscrit|bloqué|certain)(?!\p{L})/iu,
    /^Non connecté$/i,
    // "vous" as the object before avoir agrees too ("vous a déconnecté"), as does a named user ("{name} est déconnecté")
    /\bvous a (?:déconnecté|connecté|bloqué)(?!\p{L})/iu,
    /\{name\} (?:est|a été) (?:déconnecté|connecté|bloqué)(?!\p{L})/iu,
    /\bBienvenu(?!\p{L})/iu,
  ],
  it: [
    /\b(?:sei|eri|sarai|sia)\s+(?:stato|uscito|entrato|connesso|disconnesso|collegato|sicuro|pronto|solo)(?!\p{L})/iu,
    /^Benvenuto\b/, // "Ti diamo il benvenuto" is neutral
    /\bti ha (?:disconnesso|bloccato|collegato)(?!\p{L})/iu,
    /\bviene disconnesso(?!\p{L})/iu,
  ],
  es: [
    /\b(?:estás|estabas|está usted)\s+(?:(?:ya|todavía|aún)\s+)?(?:conectado|desconectado|seguro|listo|bloqueado|solo)(?!\p{L})/iu,
    /\bBienvenido(?!\p{L})/iu,
  ],
};

describe("messages that address the reader do not assume a man", () => {
  it.each(Object.keys(GENDERED) as Locale[])("%s: no masculine agreement with the reader", (locale) => {
    const found = Object.entries(CATALOGUES[locale] as Record<string, string>)
      .filter(([, text]) => GENDERED[locale]!.some((pattern) => pattern.test(text)))
      .map(([key, text]) => `${key}: ${text}`);
    expect(found).toEqual([]);
  });

  it("a user support reads about is not made a man by a participle either (console: signed in with a temporary password, signed out everywhere)", () => {
    const named: Partial<Record<Locale, RegExp[]>> = {
      fr: [/(?:utilisateur|^Activé ;) (?:a été |est )?(?:déconnecté|connecté|bloqué)(?!\p{L})/iu],
      it: [/\butente è stato (?:disconnesso|bloccato)(?!\p{L})/iu],
    };
    for (const [locale, patterns] of Object.entries(named) as [Locale, RegExp[]][]) {
      const found = Object.entries(CATALOGUES[locale] as Record<string, string>)
        .filter(([, text]) => patterns.some((pattern) => pattern.test(text)))
        .map(([key, text]) => `${key}: ${text}`);
      expect(found, locale).toEqual([]);
    }
  });

  it("French says the reader is signed in without an agreement", () => {
    const fr = CATALOGUES.fr as Record<string, string>;
    expect(fr["home.signedInAs"]).not.toMatch(/connecté/);
    expect(fr["login.signedOut"]).not.toMatch(/déconnecté/);
  });
});
