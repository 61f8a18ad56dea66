import { describe, expect, it } from "vitest";
import { canonicalTimeZone, savedTimeZone } from "../../src/i18n/locales.ts";

/**
 * canonicalTimeZone (the Profile's "Time zone" field, FAMOS_TIMEZONE, a saved row): an IANA name as Intl names
 * it, or null. Every character an IANA name holds is let through to Intl (letters of either case, digits, "_",
 * "+", "-", "/"), and nothing that is not a name: an offset ("+01:00", which newer Intl takes as a zone of its
 * own), white space, a path, a name of more than 64 characters.
 */
describe("canonicalTimeZone (unit tier)", () => {
  it("keeps names with digits, '+', '-' and '_' in them, as Intl names them", () => {
    expect(canonicalTimeZone("Etc/GMT+1")).toBe("Etc/GMT+1");
    expect(canonicalTimeZone("etc/gmt-14")).toBe("Etc/GMT-14");
    expect(canonicalTimeZone("America/Port-au-Prince")).toBe("America/Port-au-Prince");
    expect(canonicalTimeZone("America/Port_of_Spain")).toBe("America/Port_of_Spain");
    expect(canonicalTimeZone("EST5EDT")).toMatch(/^(EST5EDT|America\/New_York)$/);
    expect(canonicalTimeZone("UTC")).toBe("UTC");
    expect(canonicalTimeZone("utc")).toBe("UTC");
    expect(canonicalTimeZone("America/Indiana/Indianapolis")).toMatch(/^America\/(Indiana\/)?Indianapolis$/);
  });

  it("refuses what is no IANA name: offsets, white space around a name, a leading digit or sign, an empty or too long one", () => {
    for (const value of ["+01:00", "-05:00", "+0100", "1Europe/London", "/Europe/London", "_UTC", " UTC", "UTC ", "Europe/London\n", "\nUTC", "", "Europe/Berlin/", "Europe\\Berlin"]) {
      expect(canonicalTimeZone(value), JSON.stringify(value)).toBeNull();
    }
    expect(canonicalTimeZone(`Europe/${"x".repeat(57)}`)).toBeNull();
  });

  it("reads a saved name as Intl names it, and none for nothing saved or a name Intl does not know", () => {
    expect(savedTimeZone("europe/london")).toBe("Europe/London");
    expect(savedTimeZone("europe/london")).toBe("Europe/London");
    expect(savedTimeZone("Mars/Olympus_Mons")).toBeNull();
    expect(savedTimeZone(null)).toBeNull();
    expect(savedTimeZone(undefined)).toBeNull();
    expect(savedTimeZone("")).toBeNull();
  });
});
