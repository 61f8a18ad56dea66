import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/**
 * Issue 17's memory target: the Profile's time zone list named every zone with Intl in the server,
 * and ICU kept every zone's names loaded: 34 MB more resident memory after the first Profile page
 * (134 → 160 MB after 10,000 sessions in `npm run bench`). The names come from a table made ahead
 * (zone-labels.json). Measured in a process of its own: the list in all six languages.
 */
describe("the Profile's time zone list in memory", () => {
  it("adds a few megabytes of resident memory, not ICU's every zone", () => {
    const script = `
      const rss = () => process.memoryUsage().rss / 2 ** 20;
      const { zoneChoices } = await import(${JSON.stringify(new URL("../../src/i18n/zone-names.ts", import.meta.url).href)});
      const before = rss();
      for (const locale of ["en-GB", "de", "fr", "it", "es", "nl"]) zoneChoices(locale, Date.now());
      process.stdout.write(String(rss() - before));`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const grownMb = Number(run.stdout);
    // A number (resident memory may also shrink by a little, as a collection hands pages back).
    expect(Number.isFinite(grownMb), run.stdout).toBe(true);
    expect(grownMb).toBeLessThan(15);
  });
});
