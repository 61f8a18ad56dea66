import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { TEST_SECRET } from "../support/app.ts";

/** FAMOS_DATABASE_TIMEOUT: the bound of the server's PostgreSQL statements (src/store/statement-bound.ts). */
describe("FAMOS_DATABASE_TIMEOUT", () => {
  it("is 5 seconds when unset, and `famos config` shows that default", () => {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET });
    expect(loaded.ok && loaded.config.databaseTimeoutMs).toBe(5000);
    expect(loaded.defaults.get("FAMOS_DATABASE_TIMEOUT")).toBe("5s");
  });

  it("takes a duration from 100 ms to 10 minutes", () => {
    for (const [value, ms] of [["100ms", 100], ["2s", 2000], ["30s", 30_000], ["10m", 600_000]] as const) {
      const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_TIMEOUT: value });
      expect(loaded.ok ? loaded.config.databaseTimeoutMs : loaded.errors, value).toBe(ms);
    }
  });

  it("refuses anything else in one line naming it", () => {
    for (const value of ["0", "5", "forever", "50ms", "11m", "-1s"]) {
      const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_TIMEOUT: value });
      expect(loaded.ok ? [] : loaded.errors, value).toEqual([
        `FAMOS_DATABASE_TIMEOUT: must be a duration such as 90s, 15m or 1h, between 0.1s and 600s (got "${value}")`,
      ]);
    }
  });
});
