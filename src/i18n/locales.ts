/**
 * The languages FAMOS ships (issue 16). English (en-GB) is the source: every other catalogue under
 * src/i18n/messages/ has exactly its keys and placeholders (test/i18n/catalogue.test.ts). To add a
 * language: add its tag here, its name in its own language below, and messages/<tag>.json with every
 * key of en-GB.json translated; then `npx vitest run test/i18n` says what is missing.
 */
export const LOCALES = ["en-GB", "de", "fr", "it", "es", "nl"] as const;
export type Locale = (typeof LOCALES)[number];

/** Each language named in itself, for the language switch. */
export const LOCALE_NAMES: Record<Locale, string> = {
  "en-GB": "English",
  de: "Deutsch",
  fr: "Français",
  it: "Italiano",
  es: "Español",
  nl: "Nederlands",
};

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/**
 * The shipped locale for a BCP 47 tag, by its language ("de-AT" → de, "en-US" → en-GB); null when
 * FAMOS has no catalogue for it.
 */
export function matchLocale(tag: string): Locale | null {
  const trimmed = tag.trim();
  if (isLocale(trimmed)) return trimmed;
  const language = trimmed.split(/[-_]/)[0]!.toLowerCase();
  if (language === "en") return "en-GB";
  return isLocale(language) ? language : null;
}

/**
 * The best shipped locale for an Accept-Language header (RFC 9110 §12.5.4): language ranges by
 * descending q (order kept among equals), q=0 meaning "not this one"; "*" is no preference. Null when
 * none matches, so the caller falls back to FAMOS_DEFAULT_LOCALE.
 */
export function negotiateLocale(header: string | undefined): Locale | null {
  if (!header) return null;
  const ranges: { tag: string; q: number; order: number }[] = [];
  // A header is short in practice; a long one is cut rather than parsed at length.
  header.slice(0, 1024).split(",").forEach((part, order) => {
    const [tag = "", ...params] = part.split(";").map((s) => s.trim());
    if (!/^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$/.test(tag)) return;
    let q = 1;
    for (const param of params) {
      if (!/^q\s*=/i.test(param)) continue;
      const m = /^q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?)$/i.exec(param);
      q = m ? Number(m[1]) : Number.NaN; // a malformed weight: the range is ignored
    }
    if (!Number.isNaN(q)) ranges.push({ tag, q, order });
  });
  // "de;q=0" refuses German even when "*" or "de-AT" would otherwise bring it in.
  const refused = new Set(ranges.filter((r) => r.q === 0).map((r) => matchLocale(r.tag)));
  ranges.sort((a, b) => b.q - a.q || a.order - b.order);
  for (const range of ranges) {
    if (range.q === 0 || range.tag === "*") continue;
    const locale = matchLocale(range.tag);
    if (locale && !refused.has(locale)) return locale;
  }
  return null;
}

/**
 * An IANA time zone as Intl names it (the Profile's "Time zone" field, FAMOS_TIMEZONE), or null for
 * one Intl does not know. Intl takes a name in any case ("europe/london") and some old links
 * ("GB", "Europe/Belfast"); stored or configured as typed, such a name matched neither the names FAMOS
 * gives its zones ("UK time", format.ts) nor Profile's list, so the name kept is the one Intl resolves
 * it to, which is the name timeZones() lists.
 */
export function canonicalTimeZone(value: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(value)) return null;
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Saved names as canonicalTimeZone reads them: a few dozen at most, read on every page. */
const savedNames = new Map<string, string | null>();

/**
 * A user's saved time zone (users.time_zone) as Intl names it, or null for none. A row saved before
 * Profile stored canonical names holds what was typed ("europe/london", "GB", "Zulu"): read so, pages
 * and mails named it as Intl names the typed text ("United Kingdom Time", not "UK time") and Profile
 * listed the typed name beside the zone it is, until the user saved again. A name Intl does not know
 * (a row written by other means) is no choice, not a page that cannot be drawn.
 */
export function savedTimeZone(saved: string | null | undefined): string | null {
  if (!saved) return null;
  let zone = savedNames.get(saved);
  if (zone === undefined) {
    zone = canonicalTimeZone(saved);
    // Bounded, though the names come from rows Profile wrote: a table filled otherwise grows nothing.
    if (savedNames.size < 1000) savedNames.set(saved, zone);
  }
  return zone;
}

/** The zone a user's pages and mails are written in: their saved zone (savedTimeZone), else FAMOS_TIMEZONE's. */
export function readerTimeZone(saved: string | null | undefined, fallback: string): string {
  return savedTimeZone(saved) ?? fallback;
}

/**
 * Zones FAMOS keeps (canonicalTimeZone: "Zulu", "Etc/UTC" and "GMT" are UTC) that Intl's list leaves out: UTC
 * and the fixed offsets, Etc/GMT+12 to Etc/GMT-14 in the order of their offset from −12:00 to +14:00 (IANA's
 * sign is inverted: Etc/GMT+5 is five hours behind UTC). Without them on Profile, a user whose saved zone is
 * one of them and who changed away could not pick it again.
 */
export const FIXED_ZONES: readonly string[] = Object.freeze([
  "UTC",
  ...Array.from({ length: 27 }, (_, i) => 12 - i)
    .filter((n) => n !== 0)
    .map((n) => `Etc/GMT${n > 0 ? "+" : ""}${n}`),
]);

/** The zones offered on Profile: Intl's canonical list, then FIXED_ZONES. */
let zones: readonly string[] | null = null;

/** Intl's IANA zone names and FIXED_ZONES (each as Intl names it), read once (fixed for the life of the process). */
export function timeZones(): readonly string[] {
  if (!zones) {
    const listed = Intl.supportedValuesOf("timeZone");
    zones = Object.freeze([...listed, ...FIXED_ZONES.filter((zone) => !listed.includes(zone) && canonicalTimeZone(zone) === zone)]);
  }
  return zones;
}

/** The regions of the IANA zone names (the part before the first "/"), Europe first as most dealers are there. */
export const ZONE_REGIONS = ["Europe", "America", "Africa", "Asia", "Atlantic", "Australia", "Indian", "Pacific", "Antarctica", "Arctic"] as const;
export type ZoneRegion = (typeof ZONE_REGIONS)[number] | "Other";

/**
 * The zones grouped by region in ZONE_REGIONS' order ("Other" last, for names such as "UTC": FIXED_ZONES), each
 * group in Intl's order: a 418-entry list becomes a few groups a reader can jump through.
 */
export function zonesByRegion(zones: readonly string[]): { region: ZoneRegion; zones: string[] }[] {
  const groups = new Map<ZoneRegion, string[]>();
  for (const zone of zones) {
    const prefix = zone.split("/")[0]!;
    const region: ZoneRegion = (ZONE_REGIONS as readonly string[]).includes(prefix) && zone.includes("/") ? (prefix as ZoneRegion) : "Other";
    const group = groups.get(region);
    if (group) group.push(zone);
    else groups.set(region, [zone]);
  }
  return [...ZONE_REGIONS, "Other" as const].filter((r) => groups.has(r)).map((region) => ({ region, zones: groups.get(region)! }));
}
