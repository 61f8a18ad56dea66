import { describe, expect, it } from "vitest";
import { CATALOGUES, type MessageKey } from "../../src/i18n/catalogues.ts";
import { LOCALES, type Locale } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";

/**
 * OTP capture for an email change names the new address in a phrase (delivery.toNew: "your new address
 * n•••@dealer.example") that code-entry.ts puts where each delivery line has {to}, after a preposition.
 * Where a language contracts a preposition with the article that starts such a phrase (Italian a + il =
 * al, French à + le = au, Spanish a + el = al), the sentence must not read "a il tuo nuovo indirizzo".
 */
const UNCONTRACTED: Partial<Record<Locale, RegExp>> = {
  it: /(?:^|[\s(])(?:a|di|da|in|su) (?:(?:il|lo|la|i|gli|le)\s|l[’'])/iu,
  fr: /(?:^|[\s(])(?:à|de) (?:le|les)\s/iu,
  es: /(?:^|[\s(])(?:a|de) el\s/iu,
};

const english = CATALOGUES["en-GB"] as Record<string, string>;
const WITH_TO = (Object.keys(english) as MessageKey[]).filter((key) => key.startsWith("delivery.") && english[key]!.includes("{to}"));

describe("delivery lines that name the new address read as the language's grammar has it", () => {
  it("finds the lines", () => expect(WITH_TO.length).toBeGreaterThan(10));
  for (const locale of LOCALES) {
    const rule = UNCONTRACTED[locale];
    if (rule) it(`${locale}: no preposition left uncontracted before the new address`, () => {
      const t = translator(locale, "Europe/London");
      const to = t.html("delivery.toNew", { address: "n•••@dealer.example" });
      const wrong = WITH_TO.map((key) => {
        const text = String(t.html(key, { to, at: "14:02", until: "14:17", wrongEmail: "W", cancel: "C", loginId: "x" })).replace(/<[^>]+>/g, "");
        return { key, text };
      }).filter(({ text }) => rule.test(text));
      expect(wrong).toEqual([]);
    });
  }
});
