import { describe, expect, it } from "vitest";
import { parseSince } from "../../src/cli/commands/audit.ts";

/** famos audit --since: an ISO 8601 time; without an offset, a wall-clock time in FAMOS_TIMEZONE. */
describe("famos audit --since", () => {
  it("reads a space for the T as the same local time, a date as its midnight, and refuses anything else with the reason", () => {
    const t = Date.UTC(2026, 11, 6, 8, 0);
    expect(parseSince("2026-12-06 08:00", "Europe/London")).toBe(t);
    expect(parseSince("2026-12-06T08:00", "Europe/London")).toBe(t);
    expect(parseSince("2026-12-06", "Europe/London")).toBe(Date.UTC(2026, 11, 6));
    expect(parseSince("2026-12-06T08:00Z", "Europe/Berlin")).toBe(t);
    for (const bad of ["2026-12-06  08:00", "2026-12-06 8:00", "06/12/2026"]) expect(() => parseSince(bad, "Europe/London")).toThrow(/is not an ISO 8601 time/);
  });

  it("RFC 3339 §5.6: a time with its zone may have a space for the T (and t, z in lower case); the zone decides, not FAMOS_TIMEZONE", () => {
    const t = Date.UTC(2026, 5, 14, 8, 0);
    expect(parseSince("2026-06-14 08:00Z", "Europe/London")).toBe(t);
    expect(parseSince("2026-06-14 08:00Z", "Europe/Berlin")).toBe(t);
    expect(parseSince("2026-06-14T08:00Z", "Europe/London")).toBe(t);
    expect(parseSince("2026-06-14 10:00+02:00", "Europe/London")).toBe(t);
    expect(parseSince("2026-06-14 03:30:00-04:30", "UTC")).toBe(t);
    expect(parseSince("2026-06-14 08:00:00.250Z", "UTC")).toBe(t + 250);
    expect(parseSince("2026-06-14t08:00z", "UTC")).toBe(t);
    expect(parseSince(" 2026-06-14 08:00Z ", "UTC")).toBe(t);
  });

  it("refuses a zoned time that names no real moment (31 February, 24:00, 08:60, an offset past 23:59) rather than rolling it over, with the reason", () => {
    for (const bad of [
      "2026-02-30T08:00Z",
      "2026-02-30 08:00Z",
      "2026-06-14T24:00Z",
      "2026-06-14 08:60Z",
      "2026-06-14 08:00:60Z",
      "2026-06-14 08:00+24:00",
      "2026-06-14 08:00+02:60",
      "2026-06-14  08:00Z",
      "2026-06-14 8:00Z",
      "2026-06-14 08:00 Z",
      "2026-06-14 08:00+0200",
      "2026-06-14_08:00Z",
    ]) {
      expect(() => parseSince(bad, "UTC"), bad).toThrow(/is not an ISO 8601 time/);
    }
  });
});
