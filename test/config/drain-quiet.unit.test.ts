import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { TEST_SECRET } from "../support/app.ts";

/** FAMOS_DRAIN_QUIET: how long a stopping `famos serve` waits for no new connection (src/web/drain.ts). */
describe("FAMOS_DRAIN_QUIET", () => {
  it("is 2 seconds when unset, and `famos config` shows that default", () => {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET });
    expect(loaded.ok && loaded.config.drainQuietMs).toBe(2000);
    expect(loaded.defaults.get("FAMOS_DRAIN_QUIET")).toBe("2s");
  });

  it("takes a duration from 100 ms to the drain's bound of 10 seconds", () => {
    for (const [value, ms] of [["100ms", 100], ["2s", 2000], ["10s", 10_000]] as const) {
      const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DRAIN_QUIET: value });
      expect(loaded.ok ? loaded.config.drainQuietMs : loaded.errors, value).toBe(ms);
    }
  });

  it("refuses anything else in one line naming it", () => {
    for (const value of ["0", "50ms", "11s", "forever"]) {
      const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DRAIN_QUIET: value });
      expect(loaded.ok ? [] : loaded.errors, value).toEqual([`FAMOS_DRAIN_QUIET: must be a duration such as 90s, 15m or 1h, between 0.1s and 10s (got "${value}")`]);
    }
  });
});
