import { IntlMessageFormat } from "intl-messageformat";
import { describe, expect, it } from "vitest";
import { CATALOGUES, type MessageKey } from "../../src/i18n/catalogues.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { formatMessage } from "../../src/i18n/translator.ts";

/**
 * formatMessage puts a message of text and plain placeholders together itself (issue 17); every
 * message of every catalogue must come out as IntlMessageFormat makes it, whatever the values: text
 * with quotes, braces and markup, numbers of every kind, and the values ICU alone deals with (a
 * missing one, one of another type), which must fail or read as they did.
 */
const VALUE_SETS: Record<string, unknown>[] = [
  { text: `O'Brien <b>&amp;</b> {x} '' "q"`, n: 0 },
  { text: "", n: 1 },
  { text: "ü ß 東京 😀", n: -2.5 },
  { text: "x", n: 1234567.891 },
  { text: "0", n: Number.NaN },
  { text: "y", n: 2 ** 60 },
];

function placeholders(format: IntlMessageFormat): string[] {
  const names = new Set<string>();
  const walk = (elements: { type: number; value?: string; options?: Record<string, { value: never[] }> }[]) => {
    for (const e of elements) {
      if (e.type !== 0 && e.type !== 7 && e.value !== undefined) names.add(e.value);
      for (const option of Object.values(e.options ?? {})) walk(option.value);
    }
  };
  walk(format.getAst() as never);
  return [...names];
}

function icu(format: IntlMessageFormat, values: Record<string, unknown>): { out?: string; error?: string } {
  try {
    return { out: String(format.format(values as never)) };
  } catch (error) {
    return { error: String(error) };
  }
}

function ours(locale: (typeof LOCALES)[number], key: MessageKey, values: Record<string, unknown>): { out?: string; error?: string } {
  try {
    return { out: formatMessage(locale, key, values as never) };
  } catch (error) {
    return { error: String(error) };
  }
}

describe("formatMessage", () => {
  it("every message of every language, with text, numbers, a missing value and values of other types, reads as ICU's", () => {
    let compared = 0;
    for (const locale of LOCALES) {
      for (const [key, source] of Object.entries(CATALOGUES[locale] as Record<string, string>)) {
        const format = new IntlMessageFormat(source, locale, undefined, { ignoreTag: true });
        const names = placeholders(format);
        const sets: Record<string, unknown>[] = VALUE_SETS.map((set, i) =>
          Object.fromEntries(names.map((name, j) => [name, (i + j) % 2 === 0 ? set.text : set.n])),
        );
        if (names.length > 0) {
          sets.push(Object.fromEntries(names.slice(1).map((name) => [name, "v"])));
          sets.push(Object.fromEntries(names.map((name) => [name, true])));
          sets.push(Object.fromEntries(names.map((name) => [name, null])));
          sets.push(Object.fromEntries(names.map((name) => [name, { toString: () => "obj" }])));
        }
        for (const values of sets) {
          const expected = icu(format, values);
          expect(ours(locale, key as MessageKey, values), `${locale} ${key} ${JSON.stringify(values)}`).toEqual(expected);
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(30_000);
  });
});
