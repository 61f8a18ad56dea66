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
});
