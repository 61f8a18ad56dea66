import { describe, expect, it } from "vitest";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";

/**
 * The Spanish catalogue speaks peninsular Spanish (ordenador, tú): what just happened is told in the
 * present perfect ("Si no has sido tú", "Si no has hecho este cambio"), one way in every mail, not mixed
 * with the preterite of Latin American usage ("Si no fuiste tú").
 */
describe("Spanish tells what just happened in one tense", () => {
  it("no preterite of the reader's own recent action", () => {
    const preterite = /\b(?:fuiste|hiciste|pediste|iniciaste|cambiaste)(?!\p{L})/iu;
    const found = Object.entries(CATALOGUES.es as Record<string, string>)
      .filter(([, text]) => preterite.test(text))
      .map(([key, text]) => `${key}: ${text}`);
    expect(found).toEqual([]);
    expect((CATALOGUES.es as Record<string, string>)["mail.recoveryCodeUsed.notYou"]).toMatch(/^Si no has sido tú,/);
  });
});
