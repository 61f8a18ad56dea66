import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { loadConfig } from "../../src/config/config.ts";
import { translator } from "../../src/i18n/translator.ts";
import { pauseText } from "../../src/web/pause-messages.ts";

/**
 * QA: a pause's end ("paused on new browsers until 14:05") named no zone, while OTP capture's times,
 * the Regenerate wait, the hourly cap and the mail do ("(UK time)"): staff at a dealership in another
 * zone than FAMOS_TIMEZONE, or with a saved zone of their own, could not tell when to try again. The
 * end of every pause on a page names its zone, in the reader's language.
 */
describe("a pause's end names the zone of its clock time", () => {
  const result = loadConfig({ FAMOS_TIMEZONE: "Europe/Berlin" });
  if (!result.ok) throw new Error(result.errors.join("; "));
  const deps = { config: result.config } as unknown as Pick<Deps, "config">;
  // 13:00:30 UTC is 14:00:30 in Berlin in November; a pause's end is told rounded up to the minute.
  const until = Date.UTC(2026, 10, 28, 13, 0, 30);

  it("for each scope, in English and German", () => {
    const en = translator("en-GB", "Europe/Berlin");
    const de = translator("de", "Europe/Berlin");
    expect(pauseText(deps, { scope: "login-id", until }, en)).toContain("paused on new browsers until 14:01 (Central European Time), after");
    expect(pauseText(deps, { scope: "device", until }, en)).toContain("paused on this browser until 14:01 (Central European Time), after");
    expect(pauseText(deps, { scope: "address", until }, en)).toContain("paused for new browsers until 14:01 (Central European Time), after");
    for (const scope of ["login-id", "device", "address"] as const) {
      expect(pauseText(deps, { scope, until }, de), scope).toContain("14:01 (Mitteleuropäische Zeit)");
    }
  });

  it("in the reader's saved zone, not only FAMOS_TIMEZONE's", () => {
    const en = translator("en-GB", "America/New_York");
    expect(pauseText(deps, { scope: "login-id", until }, en)).toContain("until 08:01 (Eastern Time)");
  });
});
