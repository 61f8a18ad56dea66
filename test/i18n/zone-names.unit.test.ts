import { describe, expect, it } from "vitest";
import { FIXED_ZONES, LOCALES } from "../../src/i18n/locales.ts";
import ZONE_LABELS from "../../src/i18n/zone-labels.json" with { type: "json" };
import { intlZoneLabel, zoneChoices, zoneLabel } from "../../src/i18n/zone-names.ts";

const AT = Date.UTC(2026, 10, 28, 14, 0, 0);

describe("time zones named in the reader's language (Profile's Time zone list)", () => {
  it("names a zone by its country and Intl's generic name, in German and in French", () => {
    expect(zoneLabel("Europe/Vienna", "de", AT)).toBe("Österreich – Mitteleuropäische Zeit");
    expect(zoneLabel("Europe/Vienna", "fr", AT)).toBe("Autriche – heure d’Europe centrale");
    expect(zoneLabel("Asia/Tokyo", "de", AT)).toBe("Japan – Japanische Normalzeit");
    expect(zoneLabel("Asia/Tokyo", "fr", AT)).toBe("Japon – heure normale du Japon");
    expect(zoneLabel("Europe/Vienna", "en-GB", AT)).toBe("Austria – Central European Time");
  });

  it("adds the place for a country with several zones, without naming the country twice", () => {
    expect(zoneLabel("America/New_York", "de", AT)).toBe("Vereinigte Staaten, New York – Nordamerikanische Ostküstenzeit");
    expect(zoneLabel("America/Indiana/Knox", "fr", AT)).toBe("États-Unis, Knox, Indiana – heure du centre nord-américain");
    expect(zoneLabel("America/Argentina/La_Rioja", "de", AT)).toBe("Argentinien, La Rioja – Argentinische Normalzeit");
    expect(zoneLabel("Europe/Busingen", "fr", AT)).toBe("Allemagne, Busingen – heure d’Europe centrale");
  });

  it("leaves out a generic name that only repeats the place", () => {
    expect(zoneLabel("Europe/London", "de", AT)).toBe("Vereinigtes Königreich");
    expect(zoneLabel("Europe/London", "fr", AT)).toBe("Royaume-Uni");
  });

  it("falls back to the IANA name for zones no country has, and never throws", () => {
    expect(zoneLabel("US/Eastern", "de", AT)).toBe("US/Eastern – Nordamerikanische Ostküstenzeit");
    expect(zoneLabel("Nowhere/Atlantis", "de", AT)).toBe("Nowhere/Atlantis");
  });

  it("names UTC plainly and a fixed offset as staff read it (Etc/GMT+5 is five hours behind UTC), in every language", () => {
    expect(zoneLabel("UTC", "en-GB", AT)).toBe("UTC – Coordinated Universal Time");
    expect(zoneLabel("UTC", "de", AT)).toBe("UTC – Koordinierte Weltzeit");
    expect(zoneLabel("Etc/GMT+5", "fr", AT)).toBe("UTC−05:00, sans heure d’été");
    expect(zoneLabel("Etc/GMT-14", "en-GB", AT)).toBe("UTC+14:00, no summer time");
    expect(zoneLabel("Etc/GMT+12", "it", AT)).toBe("UTC−12:00, senza ora legale");
    for (const locale of LOCALES) expect(zoneLabel("Etc/GMT-1", locale, AT), locale).toMatch(/^UTC\+01:00, \S/);
  });

  it("offers every zone of Intl once, and UTC and the fixed offsets, with distinct names, each region in the language's alphabetical order, the offsets in theirs", () => {
    for (const locale of ["de", "fr", "en-GB", "it", "es", "nl"]) {
      const groups = zoneChoices(locale, AT);
      const zones = groups.flatMap((g) => g.zones.map((c) => c.zone));
      expect([...zones].sort()).toEqual([...Intl.supportedValuesOf("timeZone"), ...FIXED_ZONES].sort());
      const labels = groups.flatMap((g) => g.zones.map((c) => c.label));
      expect(new Set(labels).size, locale).toBe(labels.length);
      const collator = new Intl.Collator(locale);
      for (const g of groups.filter((g) => g.region !== "Other")) expect(g.zones.map((c) => c.label)).toEqual(g.zones.map((c) => c.label).sort(collator.compare));
      expect(groups.at(-1)!.zones.map((c) => c.zone)).toEqual(FIXED_ZONES);
      expect(groups[0]!.region).toBe("Europe");
    }
    expect(zoneChoices("de", AT)).toBe(zoneChoices("de", AT + 1));
  });
});

describe("the table of zone names made ahead (src/i18n/zone-labels.json, scripts/zone-labels.ts)", () => {
  it("names every zone in every language as Intl does, on the ICU it was made with; elsewhere, names every zone it has", () => {
    const table = ZONE_LABELS as unknown as Record<string, Record<string, string>>;
    const madeWith = table.icu!.version;
    for (const locale of LOCALES) {
      const names = table[locale]!;
      expect(Object.keys(names).length, locale).toBeGreaterThan(400);
      for (const [zone, label] of Object.entries(names)) {
        expect(label.length, `${locale} ${zone}`).toBeGreaterThan(0);
        // The table is what the server shows (zoneLabel): on this ICU it must be what Intl says now.
        if (madeWith === process.versions.icu) expect(label, `${locale} ${zone}`).toBe(intlZoneLabel(zone, locale, AT));
        expect(zoneLabel(zone, locale, AT)).toBe(label);
      }
    }
  });
});
