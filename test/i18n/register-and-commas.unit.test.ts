import { describe, expect, it } from "vitest";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";
import { LOCALES } from "../../src/i18n/locales.ts";

const catalogue = (locale: (typeof LOCALES)[number]) => CATALOGUES[locale] as Record<string, string>;

/**
 * The persona walk: the portal's welcome sentence put a comma before "oder" and "ou", which German and
 * French do not write before the last item of a list (nor Italian, Spanish or Dutch before "oppure",
 * "o", "of"). British English's "…, or Profile" keeps its.
 */
describe("the portal's welcome sentence joins Profile to the sections as each language does", () => {
  const conjunction = { de: "oder", fr: "ou", it: "oppure", es: "o", nl: "of" } as const;
  for (const [locale, or] of Object.entries(conjunction) as [keyof typeof conjunction, string][]) {
    it(`${locale}: "{sections} ${or} Profile", no comma before "${or}"`, () => {
      expect(catalogue(locale)["home.sections"]).toContain(`{sections} ${or} <a href="/profile">`);
    });
  }
});

/**
 * README: the console speaks formally. The Italian console said "reimposti" (Lei) beside "verificatelo"
 * (voi), "Inserisci", "il tuo codice", "attivalo" (tu); and "Lei stesso" made every support person a man.
 * Its sentences use Lei, capitalised as "Il Suo ruolo" does; labels on buttons and headings are not checked.
 */
describe("the Italian console addresses support formally", () => {
  const console = Object.entries(catalogue("it")).filter(([key]) => /^(console|said\.console)\./.test(key));

  it("no tu or voi in its messages", () => {
    const informal = /(?<!\p{L})(?:tu|tuo|tua|tuoi|tue|ti|inserisci|attivalo|imposta una password temporanea\.|verificatelo|conferma nella)(?!\p{L})/iu;
    expect(console.filter(([, text]) => informal.test(text)).map(([key, text]) => `${key}: ${text}`)).toEqual([]);
  });

  it("no masculine-only \"Lei stesso\"", () => {
    expect(console.filter(([, text]) => /Lei stess[oa]/u.test(text)).map(([key]) => key)).toEqual([]);
  });
});
