import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
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

  it("the zero offset is UTC, and another bare offset UTC±n, in French as in the other languages", () => {
    for (const locale of ["fr", "it", "de", "en-GB"] as const) {
      expect(translator(locale, "UTC").zone(AT), locale).toBe("UTC");
      expect(translator(locale, "Etc/UTC").zone(AT), locale).toBe("UTC");
    }
    expect(translator("fr", "Etc/GMT+5").zone(AT)).toBe("UTC−5");
  });

  it("the Profile's list says the zone in lower case after the country's dash, in Italian and Spanish as in French", () => {
    expect(zoneLabel("Europe/Rome", "it", AT)).toBe("Italia – ora dell’Europa centrale");
    expect(intlZoneLabel("Europe/Istanbul", "es", AT)).toBe("Turquía – hora estándar de Turquía");
    expect(zoneLabel("Europe/Istanbul", "es", AT)).toBe("Turquía – hora estándar de Turquía");
    expect(zoneLabel("Europe/Vienna", "de", AT)).toBe("Österreich – Mitteleuropäische Zeit");
  });
});
