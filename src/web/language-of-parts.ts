import type { Config } from "../config/config.ts";
import type { Section } from "../config/sections.ts";
import type { MessageKey, TextValues, Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";

/**
 * WCAG 3.1.2 "Language of Parts": words in another language than the page's carry their own `lang`,
 * so a screen reader pronounces "Quotation" as English on a French page. Only where FAMOS knows the
 * language: its own catalogue's words are the page's; the built-in section labels are the SPEC's
 * English; a label set in FAMOS_SECTIONS and a notice written by support are taken to be in the
 * deployment's language, FAMOS_DEFAULT_LOCALE (nothing records who wrote them in which).
 */
export function sectionLanguage(config: Pick<Config, "defaultLocale">, section: Section): string {
  return section.lang ?? config.defaultLocale;
}

export function noticeLanguage(config: Pick<Config, "defaultLocale">): string {
  return config.defaultLocale;
}

/** ` lang="…"` for an element whose whole text is in `lang`, where that is not the page's language. */
export function langAttribute(t: Translator, lang: string): SafeHtml {
  return lang === t.locale ? html`` : html` lang="${lang}"`;
}

/** Text in `lang`, inside a sentence of the page's language: a span with its lang where they differ. */
export function inLanguage(t: Translator, lang: string, text: string): SafeHtml {
  return lang === t.locale ? html`${text}` : html`<span lang="${lang}">${text}</span>`;
}

/**
 * A sentence of the catalogue with a part in another language at its `{name}`: the sentence is text
 * (escaped: "Application Issue <14/06/2023 17:47>" holds angle brackets), the part marked with inLanguage.
 */
export function sentenceWith(t: Translator, key: MessageKey, values: TextValues, name: string, lang: string, part: string): SafeHtml {
  const mark = "\u0000";
  const [before = "", after = ""] = t.text(key, { ...values, [name]: mark }).split(mark);
  return html`${before}${inLanguage(t, lang, part)}${after}`;
}
