import { isBareOffset, utcOffsetName, zoneNounInSentence } from "../platform/format.ts";
import { Kept } from "../platform/kept.ts";
import ZONE_LABELS from "./zone-labels.json" with { type: "json" };
import { isLocale, timeZones, zonesByRegion, type ZoneRegion } from "./locales.ts";
import { formatMessage } from "./translator.ts";

/**
 * Time zones named in the reader's language for the Profile's "Time zone" list (issue 16): the
 * country from ICU's table of each country's zones (Intl.Locale's time zones), named by
 * Intl.DisplayNames, and the zone's generic name from Intl.DateTimeFormat ("longGeneric"):
 * "Österreich – Mitteleuropäische Zeit", "Autriche – heure d’Europe centrale". A country with
 * several zones adds the zone's place, as the IANA name spells it (Intl names no cities). The IANA
 * name stays the value submitted; what Intl cannot name falls back to it, never to an error.
 */

interface Country {
  region: string;
  zones: number;
}

let countries: ReadonlyMap<string, Country> | null = null;

/** Each zone's country, read once from ICU (a few hundred milliseconds; the Profile's first render). */
function zoneCountries(): ReadonlyMap<string, Country> {
  if (countries) return countries;
  const map = new Map<string, Country>();
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (const a of letters) {
    for (const b of letters) {
      const tag = `und-${a}${b}`;
      let zones: string[] | undefined;
      try {
        // A retired code (AN, the Netherlands Antilles) lists zones of today's country: skip it.
        if (Intl.getCanonicalLocales(tag)[0] !== tag) continue;
        const info = new Intl.Locale(tag) as Intl.Locale & { getTimeZones?: () => string[] | undefined; timeZones?: string[] };
        zones = info.getTimeZones?.() ?? info.timeZones;
      } catch {
        continue;
      }
      for (const zone of zones ?? []) if (!map.has(zone)) map.set(zone, { region: `${a}${b}`, zones: zones!.length });
    }
  }
  countries = map;
  return map;
}

/**
 * "America/Indiana/Knox" → "Knox, Indiana": the place as the IANA name spells it, without a part
 * that only names the country again ("America/Argentina/La_Rioja" → "La Rioja").
 */
function placeOf(zone: string, region?: string): string {
  const parts = zone.split("/").map((part) => part.replaceAll("_", " "));
  const country = region ? new Intl.DisplayNames("en", { type: "region" }).of(region) : undefined;
  const places = parts.slice(1).filter((part, i, all) => i === all.length - 1 || part !== country);
  return (places.length > 0 ? places : parts).reverse().join(", ");
}

function zonePart(zone: string, locale: string, style: "longGeneric" | "shortGeneric", at: number): string {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: style }).formatToParts(at).find((p) => p.type === "timeZoneName")?.value ?? "";
}

/**
 * The zone in the reader's language: from the table made ahead (zone-labels.json), else from Intl now
 * (a zone saved under another name, such as US/Eastern, or one a newer ICU added). Naming the 400-odd
 * zones with Intl in the server made ICU load every zone's names: 34 MB of resident memory that no
 * collection gives back (issue 17's memory target), for names that change only with ICU's data.
 */
export function zoneLabel(zone: string, locale: string, at: number): string {
  const fixed = fixedZoneLabel(zone, locale);
  if (fixed !== null) return fixed;
  const made = (ZONE_LABELS as Record<string, Record<string, string> | undefined>)[locale]?.[zone];
  return made ?? labels.get(`${locale}\u0000${zone}`, () => intlZoneLabel(zone, locale, at));
}

/**
 * UTC and the fixed offsets (FIXED_ZONES) as staff read them, from the catalogues: "UTC – Coordinated Universal
 * Time", and Etc/GMT+5 as "UTC−05:00, no summer time" (IANA's Etc/GMT sign is inverted, POSIX's), the offset
 * worded as a page's sentence words it (utcOffsetName). Null for any other zone.
 */
function fixedZoneLabel(zone: string, locale: string): string | null {
  const language = isLocale(locale) ? locale : "en-GB";
  if (zone === "UTC") return formatMessage(language, "zone.utc");
  const offset = /^Etc\/GMT([+-])(\d{1,2})$/.exec(zone);
  if (!offset) return null;
  return formatMessage(language, "zone.fixedOffset", { offset: utcOffsetName((offset[1] === "+" ? -60 : 60) * Number(offset[2])) });
}

// Per language and zone, for zones not in the table.
const labels = new Kept<string, string>(4096);

/**
 * The zone named by Intl: the country and the zone's generic name. The generic name is left out when
 * it is only an offset ("GMT+00:00") or the place again: where ICU has no generic name it gives the
 * place ("Vereinigtes Königreich (Ortszeit)"), the same as its short form. `scripts/zone-labels.ts`
 * writes zone-labels.json with it.
 */
export function intlZoneLabel(zone: string, locale: string, at: number): string {
  try {
    const country = zoneCountries().get(zone);
    const countryName = country ? new Intl.DisplayNames(locale, { type: "region", fallback: "none" }).of(country.region) : undefined;
    const generic = zonePart(zone, locale, "longGeneric", at);
    // Not a country's zone (US/Eastern, Etc/GMT+5, saved before the list was Intl's): its IANA name,
    // with whatever Intl calls it, an offset included.
    if (!countryName) return generic === "" ? zone : `${zone} – ${generic}`;
    const where = country!.zones > 1 ? `${countryName}, ${placeOf(zone, country!.region)}` : countryName;
    const usable = generic !== "" && !isBareOffset(generic) && generic !== zonePart(zone, locale, "shortGeneric", at);
    return usable ? `${where} – ${zoneNounInSentence(generic, locale)}` : where;
  } catch {
    return zone;
  }
}

export interface ZoneChoice {
  zone: string;
  label: string;
}

const choices = new Kept<string, { region: ZoneRegion; zones: ZoneChoice[] }[]>(16);

/**
 * The zones grouped by region (zonesByRegion), each group in the reader's alphabetical order of the names
 * shown (the IANA name breaks a tie), "Other" in its offsets' order: worked out once per language.
 */
export function zoneChoices(locale: string, at: number): { region: ZoneRegion; zones: ZoneChoice[] }[] {
  return choices.get(locale, () => {
    const collator = new Intl.Collator(locale);
    return zonesByRegion(timeZones()).map(({ region, zones }) => {
      const named = zones.map((zone) => ({ zone, label: zoneLabel(zone, locale, at) }));
      // "Other" holds UTC and the fixed offsets (FIXED_ZONES): in the order of the offset, as staff look for one.
      if (region === "Other") return { region, zones: named };
      return { region, zones: named.sort((a, b) => collator.compare(a.label, b.label) || (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0)) };
    });
  });
}
