/**
 * Writes src/i18n/zone-labels.json: every time zone Intl knows, named in each of FAMOS's languages
 * (intlZoneLabel in src/i18n/zone-names.ts), for the Profile's "Time zone" list. Made ahead because
 * naming every zone in the server makes ICU load every zone's names (34 MB of resident memory for
 * good). Run it again when Node's ICU data changes (`process.versions.icu` is recorded):
 *
 *   node --import tsx scripts/zone-labels.ts
 */
import { writeFileSync } from "node:fs";
import { FIXED_ZONES, LOCALES, timeZones } from "../src/i18n/locales.ts";
import { intlZoneLabel } from "../src/i18n/zone-names.ts";

// Generic names do not depend on the date; a fixed one keeps the file the same from run to run.
const AT = Date.UTC(2026, 0, 15);
const table: Record<string, Record<string, string>> = { icu: { version: process.versions.icu ?? "" } };
// UTC and the fixed offsets are named from the catalogues (zone-names.ts fixedZoneLabel), not by Intl.
const named = timeZones().filter((zone) => !FIXED_ZONES.includes(zone));
for (const locale of LOCALES) {
  table[locale] = Object.fromEntries(named.map((zone) => [zone, intlZoneLabel(zone, locale, AT)]));
}
writeFileSync(new URL("../src/i18n/zone-labels.json", import.meta.url), `${JSON.stringify(table, null, 1)}\n`);
process.stdout.write(`src/i18n/zone-labels.json: ${named.length} zones × ${LOCALES.length} languages (ICU ${process.versions.icu})\n`);
