import { describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translateSaid } from "../../src/i18n/translator.ts";
import { tooManyRequests } from "../../src/web/errors.ts";

/** SPEC "Request limits": the 429 page says when to try again, in whole seconds, in the reader's language. */
describe("the request limit's 429", () => {
  it("waits whole seconds, at least one, and says one second in the singular", () => {
    expect(tooManyRequests(0)).toMatchObject({ statusCode: 429, retryAfterSeconds: 1, message: "Too many requests from your address. Please wait 1 second and try again." });
    expect(tooManyRequests(400).message).toBe("Too many requests from your address. Please wait 1 second and try again.");
    expect(tooManyRequests(1001)).toMatchObject({ retryAfterSeconds: 2, message: "Too many requests from your address. Please wait 2 seconds and try again." });
    expect(tooManyRequests(59_000).retryAfterSeconds).toBe(59);
  });

  it.each(LOCALES.filter((l) => l !== "en-GB"))("is translated in %s, one second and many alike", (locale) => {
    const one = translateSaid(locale, tooManyRequests(400).message);
    const many = translateSaid(locale, tooManyRequests(30_000).message);
    expect(one).not.toContain("Too many requests");
    expect(many).not.toContain("Too many requests");
    expect(many).toContain("30");
    expect(one).toMatch(/\b1 (Sekunde|segundo|seconde|secondo)\b/);
  });
});
