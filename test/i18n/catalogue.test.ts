import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { IntlMessageFormat } from "intl-messageformat";
import { describe, expect, it } from "vitest";
import { CATALOGUES, type MessageKey } from "../../src/i18n/catalogues.ts";
import { LOCALES, type Locale } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";

/**
 * Issue 16: every language has exactly English's keys, every key is used, and every message has the
 * placeholders, plural arguments and markup of its English source. `npx vitest run test/i18n` is the
 * translators' check.
 */

const english = CATALOGUES["en-GB"] as Record<string, string>;
const KEYS = Object.keys(english) as MessageKey[];
const TRANSLATIONS = LOCALES.filter((l) => l !== "en-GB");

// AST element types of ICU MessageFormat (@formatjs/icu-messageformat-parser's TYPE).
const ARGUMENT = 1, NUMBER = 2, DATE = 3, TIME = 4, SELECT = 5, PLURAL = 6;
type Element = { type: number; value?: string; options?: Record<string, { value: Element[] }> };

/** Each placeholder with its kind ("count:plural", "at:argument"), and each plural's categories. */
function shape(source: string, locale: Locale): { placeholders: string[]; plurals: Record<string, string[]> } {
  const placeholders = new Set<string>();
  const plurals: Record<string, string[]> = {};
  const walk = (elements: Element[]) => {
    for (const e of elements) {
      const kind = { [ARGUMENT]: "argument", [NUMBER]: "number", [DATE]: "date", [TIME]: "time", [SELECT]: "select", [PLURAL]: "plural" }[e.type];
      if (kind && e.value !== undefined) placeholders.add(`${e.value}:${kind}`);
      if (e.type === PLURAL && e.value !== undefined) plurals[e.value] = Object.keys(e.options ?? {}).sort();
      for (const option of Object.values(e.options ?? {})) walk(option.value);
    }
  };
  walk(new IntlMessageFormat(source, locale, undefined, { ignoreTag: true }).getAst() as unknown as Element[]);
  return { placeholders: [...placeholders].sort(), plurals };
}

/** The markup a message carries: tag names in order, and attribute values that are not placeholders. */
function markup(source: string): string[] {
  return [...source.matchAll(/<\/?([a-z]+)((?:\s+[a-z-]+="[^"]*")*)\s*>/g)].map((m) => `${m[1]}${m[2] ?? ""}`).sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the message catalogues (issue 16)", () => {
  it.each(TRANSLATIONS)("%s has every English key and no other", (locale) => {
    const keys = Object.keys(CATALOGUES[locale]);
    expect(KEYS.filter((k) => !keys.includes(k)), "missing").toEqual([]);
    expect(keys.filter((k) => !(k in english)), "not in English").toEqual([]);
    for (const key of KEYS) expect(CATALOGUES[locale][key]?.trim(), `${locale} ${key} is empty`).toBeTruthy();
  });

  it.each(TRANSLATIONS)("%s: every message has English's placeholders, plural arguments and markup", (locale) => {
    const rules = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
    for (const key of KEYS) {
      const translated = CATALOGUES[locale][key]!;
      const en = shape(english[key]!, "en-GB");
      const tr = shape(translated, locale);
      expect(tr.placeholders, `${locale} ${key}`).toEqual(en.placeholders);
      expect(Object.keys(tr.plurals).sort(), `${locale} ${key}`).toEqual(Object.keys(en.plurals).sort());
      // Each plural covers the language's own categories (and always "other").
      for (const categories of Object.values(tr.plurals)) {
        for (const needed of [...rules, "other"]) expect(categories, `${locale} ${key} lacks "${needed}"`).toContain(needed);
      }
      expect(markup(translated), `${locale} ${key} markup`).toEqual(markup(english[key]!));
    }
  });

  it.each(TRANSLATIONS)("%s: no message is left in English, but for the words the languages share", (locale) => {
    // A key copied from English to be translated later falls back silently and passes every check
    // above. The messages each language writes exactly as English does are listed: a new one must
    // be added here on purpose (a word such as "Browser" or "Plan"), never by forgetting it.
    const SAME_AS_ENGLISH: Record<Exclude<Locale, "en-GB">, string[]> = {
      de: ["layout.support", "wrongEmail.mailName", "facts.name", "sessions.browser", "passkey.sectionHeading", "passkey.columnName", "console.col.ip", "console.detail.pair", "console.notice.text", "console.notice.statusLine", "console.col.browser", "rollout.plan.partner", "rollout.plan.heading", "rollout.partner"],
      fr: ["sessions.action", "passkey.columnAction", "console.pager.label", "console.pager.page", "console.col.ip", "console.notice.statusLine", "console.col.action", "rollout.plan.heading", "profile.region.europe"],
      it: ["field.password", "sessions.browser", "console.col.ip", "console.detail.pair", "console.detail.value.password", "console.detail.value.passkey", "console.notice.statusLine", "console.col.browser", "rollout.plan.removePartner", "rollout.plan.partner", "rollout.partner", "profile.region.america", "profile.region.africa", "profile.region.asia", "profile.region.australia"],
      es: ["error.title", "console.col.ip", "console.detail.pair", "console.notice.statusLine", "rollout.plan.heading", "profile.region.asia", "profile.region.australia"],
      nl: ["enrol.later", "sessions.browser", "passkey.sectionHeading", "console.col.ip", "console.detail.pair", "console.detail.key.passkeys", "console.detail.value.passkey", "console.factors.passkeys", "console.notice.statusLine", "console.col.browser", "rollout.plan.removePartner", "rollout.plan.partner", "rollout.plan.heading", "rollout.partner", "profile.region.antarctica"],
    };
    const same = KEYS.filter((key) => CATALOGUES[locale][key] === english[key]);
    expect(same).toEqual(SAME_AS_ENGLISH[locale as Exclude<Locale, "en-GB">]);
  });

  it("every message compiles in every language, with no ICU quoting that would swallow text", () => {
    for (const locale of LOCALES) {
      for (const key of KEYS) {
        const source = CATALOGUES[locale][key];
        if (source === undefined) continue; // reported by the completeness test
        // An apostrophe before { } # < or another apostrophe starts an ICU quotation: use ’ in prose.
        expect(source, `${locale} ${key}`).not.toMatch(/'[{}#<']/);
        expect(() => shape(source, locale), `${locale} ${key}`).not.toThrow();
      }
    }
  });

  it("every key is used: by name in src/, or (said.*) by its English text where the domain says it", () => {
    const files = sourceFiles(join(import.meta.dirname, "../../src"));
    const code = files.map((f) => readFileSync(f, "utf8")).join("\n");
    const unescaped = code.replace(/\\"/g, '"');
    const unused = KEYS.filter((key) => {
      if (!key.startsWith("said.")) return !code.includes(`"${key}"`);
      const pattern = english[key]!.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\$\\{[^}]+\\}");
      return !new RegExp(pattern).test(unescaped);
    });
    expect(unused).toEqual([]);
  });

  it("no caption names its zone by hand: a label ending in its zone leaves it to Translator.withZone", () => {
    // QA: six console captions ("Time ({zone})", "From ({zone})", "Starts ({zone})"…) wrote the
    // brackets themselves, a second home of how a time's zone is named beside the one in withZone.
    for (const locale of LOCALES) {
      // The one exception names a zone to choose, not a time's zone: "FAMOS default (UK time)".
      const byHand = KEYS.filter((key) => key !== "profile.zoneDefault" && /\(?\{zone\}\)?\s*$/.test(CATALOGUES[locale][key] ?? ""));
      expect(byHand, locale).toEqual([]);
    }
  });

  it("Needs attention's undeliverable list is introduced truly for its full mailboxes too: no reset, in the row's own words", () => {
    // A row made undeliverable by a mailbox full for days (src/bounce/record-bounce.ts softBounceSet) needs no
    // reset; the intro said every row was a refused address to reset. It now says so in the words the row
    // ends with (console.delivery.mailboxFull, after its last ";").
    for (const locale of LOCALES) {
      const noReset = CATALOGUES[locale]["console.delivery.mailboxFull"]!.split(";").at(-1)!.trim();
      expect(CATALOGUES[locale]["console.attention.undeliverableIntro"], locale).toContain(noReset);
    }
  });

  it("says how many tries are left with each language's plural forms", () => {
    const expected: Record<Locale, [string, string, string]> = {
      "en-GB": ["You have 1 try left.", "You have 2 tries left.", "You have 4 tries left."],
      de: ["Sie haben noch 1 Versuch.", "Sie haben noch 2 Versuche.", "Sie haben noch 4 Versuche."],
      fr: ["Il vous reste 1 essai.", "Il vous reste 2 essais.", "Il vous reste 4 essais."],
      it: ["Ti resta 1 tentativo.", "Ti restano 2 tentativi.", "Ti restano 4 tentativi."],
      es: ["Te queda 1 intento.", "Te quedan 2 intentos.", "Te quedan 4 intentos."],
      nl: ["U hebt nog 1 poging.", "U hebt nog 2 pogingen.", "U hebt nog 4 pogingen."],
    };
    for (const locale of LOCALES) {
      const t = translator(locale, "Europe/London");
      expect([1, 2, 4].map((count) => t.text("confirm.triesLeft", { count })), locale).toEqual(expected[locale]);
    }
  });
});
