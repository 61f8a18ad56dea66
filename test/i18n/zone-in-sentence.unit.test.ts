import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { intlZoneLabel, zoneLabel } from "../../src/i18n/zone-names.ts";

const AT = Date.UTC(2026, 10, 28, 14, 0, 0);

/**
 * A zone's name is said inside a sentence ("valido fino alle 14:02 (ora dell’Europa centrale)") and
 * after a dash in the Profile's list: Italian and Spanish write the common noun of Intl's generic name
 * in lower case there, as French already does ("heure d’Europe centrale"); German and Dutch keep
 * theirs. The zero offset is "UTC" in every language: French ICU writes it "UTC+00:00".
 */
describe("zone names read naturally inside a sentence", () => {
  it("Italian and Spanish write the zone's common noun in lower case; German, Dutch and English keep their capitals", () => {
    expect(translator("it", "Europe/Rome").zone(AT)).toBe("ora dell’Europa centrale");
    expect(translator("it", "Europe/Rome").withZone("14:02", AT)).toBe("14:02 (ora dell’Europa centrale)");
    expect(translator("es", "America/Rio_Branco").zone(AT)).toBe("hora estándar de Acre");
    expect(translator("fr", "Europe/Paris").zone(AT)).toBe("heure d’Europe centrale");
    expect(translator("de", "Europe/Rome").zone(AT)).toBe("Mitteleuropäische Zeit");
    expect(translator("nl", "Europe/Rome").zone(AT)).toBe("Midden-Europese tijd");
    expect(translator("en-GB", "Europe/Rome").zone(AT)).toBe("Central European Time");
  });

  it("the zero offset is UTC, and another bare offset UTC±hh:mm (the minus U+2212), in every language, as the Profile's list writes it", () => {
    for (const locale of LOCALES) {
      expect(translator(locale, "UTC").zone(AT), locale).toBe("UTC");
      expect(translator(locale, "Etc/UTC").zone(AT), locale).toBe("UTC");
      // One wording in a page's sentence ("… (UTC−05:00)") and in Profile's list ("UTC−05:00, no summer time").
      expect(translator(locale, "Etc/GMT+5").zone(AT), locale).toBe("UTC−05:00");
      expect(translator(locale, "Etc/GMT+5").withZone("14:02", AT), locale).toBe("14:02 (UTC−05:00)");
      expect(zoneLabel("Etc/GMT+5", locale, AT).startsWith("UTC−05:00, "), locale).toBe(true);
      expect(translator(locale, "Etc/GMT-3").zone(AT), locale).toBe("UTC+03:00");
      expect(zoneLabel("Etc/GMT-3", locale, AT).startsWith("UTC+03:00, "), locale).toBe(true);
    }
  });

  it("the Profile's list says the zone in lower case after the country's dash, in Italian and Spanish as in French", () => {
    expect(zoneLabel("Europe/Rome", "it", AT)).toBe("Italia – ora dell’Europa centrale");
    expect(intlZoneLabel("Europe/Istanbul", "es", AT)).toBe("Turquía – hora estándar de Turquía");
    expect(zoneLabel("Europe/Istanbul", "es", AT)).toBe("Turquía – hora estándar de Turquía");
    expect(zoneLabel("Europe/Vienna", "de", AT)).toBe("Österreich – Mitteleuropäische Zeit");
  });
});
