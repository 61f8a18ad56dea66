import { IntlMessageFormat } from "intl-messageformat";
import { durationParts } from "../config/duration.ts";
import { formatDate, formatDateTime, formatIsoOffset, formatTime, formatTimeWithSeconds, zoneName } from "../platform/format.ts";
import { escapeHtml, messageHtml, SafeHtml } from "../platform/html.ts";
import { CATALOGUES, type MessageKey } from "./catalogues.ts";
import { isLocale, readerTimeZone, type Locale } from "./locales.ts";

export type { MessageKey } from "./catalogues.ts";
export type TextValues = Record<string, string | number>;
export type HtmlValues = Record<string, string | number | SafeHtml>;

/**
 * One reader's language and time zone (issue 16). Made per request (or per recipient of a mail) and
 * passed explicitly to whatever renders words: nothing about the language lives in shared mutable
 * state. Every method is pure given the locale and the zone.
 */
export interface Translator {
  readonly locale: Locale;
  readonly timeZone: string;
  /** A message as plain text; `html` templates escape it like any other text. */
  text(key: MessageKey, values?: TextValues): string;
  /**
   * A message whose catalogue text carries markup (<strong>, <a href="{href}">): the catalogue is
   * trusted, every value is escaped unless it is already SafeHtml.
   */
  html(key: MessageKey, values?: HtmlValues): SafeHtml;
  /** 14:02 */
  time(ms: number): string;
  /** 14:02:31 */
  timeWithSeconds(ms: number): string;
  /** 01/12/2026 (01.12.2026 in German) */
  date(ms: number): string;
  /** 01/12/2026 14:02 */
  dateTime(ms: number): string;
  /** The zone as people say it in this language ("UK time", "Mitteleuropäische Zeit"). */
  zone(at: number): string;
  /**
   * A clock time shown on a page with its zone, as the code's mail names it: "14:02 (UK time)", or
   * "14:02 UK time" (`bracketed` false) where the sentence already has brackets of its own. The one
   * place a page's time gets its zone, so OTP capture's times all read alike.
   */
  withZone(time: string, at: number, bracketed?: boolean): string;
  /** "15 minutes", "1 hour 30 minutes", "90 seconds" in this language. */
  duration(ms: number): string;
  /** ISO 8601 with the zone's offset, the same in every language. */
  iso(ms: number): string;
  /**
   * A sentence the domain layer says in English (a refused address, a password rule, an error page's
   * reason), in this language: found by its English text among the catalogue's "said." keys, with
   * its placeholders read back out of it. Text the catalogue does not know stays as it is.
   */
  said(english: string): string;
}

const SAID_PREFIX = "said.";

interface SaidPattern {
  key: MessageKey;
  pattern: RegExp;
  names: string[];
}

/** The English "said." messages: by exact text, and as patterns for those with placeholders. */
function saidIndex(): { exact: Map<string, MessageKey>; patterns: SaidPattern[] } {
  const exact = new Map<string, MessageKey>();
  const patterns: SaidPattern[] = [];
  for (const [key, source] of Object.entries(CATALOGUES["en-GB"]) as [MessageKey, string][]) {
    if (!key.startsWith(SAID_PREFIX)) continue;
    const names: string[] = [];
    const parts = source.split(/\{(\w+)\}/);
    if (parts.length === 1) {
      exact.set(source, key);
      continue;
    }
    let pattern = "^";
    parts.forEach((part, i) => {
      if (i % 2 === 1) {
        names.push(part);
        pattern += "(.+?)";
      } else pattern += part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    });
    patterns.push({ key, pattern: new RegExp(`${pattern}$`, "s"), names });
  }
  return { exact, patterns };
}

let said: ReturnType<typeof saidIndex> | null = null;

export function translateSaid(locale: Locale, english: string): string {
  if (locale === "en-GB") return english;
  said ??= saidIndex();
  const key = said.exact.get(english);
  if (key) return formatMessage(locale, key);
  for (const { key: k, pattern, names } of said.patterns) {
    const match = pattern.exec(english);
    if (match) return formatMessage(locale, k, Object.fromEntries(names.map((n, i) => [n, match[i + 1]!])));
  }
  return english;
}

// Each message is compiled once per language, the first time it is used, and kept.
const compiled = new Map<string, Compiled>();

/**
 * A compiled message; `parts` when it is only text and plain placeholders ("Ends at {time}", no
 * plural, select, number or date): its texts at the even places, the placeholders' names at the odd.
 * Such a message is put together directly, as IntlMessageFormat would (a placeholder's text or number
 * as String(value)), without its parts list and merge on every call (issue 17: a Profile page formats
 * one per listed session). Anything else (a value of another type, a missing one) goes to ICU.
 */
interface Compiled {
  format: IntlMessageFormat;
  parts: string[] | null;
}

// AST element types of ICU MessageFormat (@formatjs/icu-messageformat-parser's TYPE).
const LITERAL = 0;
const ARGUMENT = 1;

function plainParts(format: IntlMessageFormat): string[] | null {
  const parts = [""];
  for (const element of format.getAst()) {
    if (element.type === LITERAL) parts[parts.length - 1] += element.value;
    else if (element.type === ARGUMENT) parts.push(element.value, "");
    else return null;
  }
  return parts;
}

function compile(locale: Locale, key: MessageKey): Compiled {
  const id = `${locale}\u0000${key}`;
  let message = compiled.get(id);
  if (!message) {
    const source = CATALOGUES[locale][key] ?? CATALOGUES["en-GB"][key]!;
    // Markup in a message is text to ICU: escaping is the caller's (see html()), not ICU's tags.
    const format = new IntlMessageFormat(source, locale, undefined, { ignoreTag: true });
    message = { format, parts: plainParts(format) };
    compiled.set(id, message);
  }
  return message;
}

export function formatMessage(locale: Locale, key: MessageKey, values?: TextValues): string {
  const { format, parts } = compile(locale, key);
  if (parts !== null && values !== undefined) {
    let out = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) {
      const value = Object.hasOwn(values, parts[i]!) ? values[parts[i]!] : undefined;
      if (typeof value === "string") out += value;
      else if (typeof value === "number") out += String(value);
      else return String(format.format(values));
      out += parts[i + 1]!;
    }
    return out;
  }
  return String(format.format(values));
}

const DURATION_KEYS = { day: "duration.days", hour: "duration.hours", minute: "duration.minutes", second: "duration.seconds" } as const;

// Bounded by the languages times the catalogue's keys.
const plainTexts = new Map<Locale, Map<MessageKey, string>>();

class LocaleTranslator implements Translator {
  private readonly spoken;
  /** Messages without values come out the same every time: formatted once per language (issue 17: pages use dozens). */
  private readonly plain: Map<MessageKey, string>;
  constructor(readonly locale: Locale, readonly timeZone: string) {
    let plain = plainTexts.get(locale);
    if (!plain) plainTexts.set(locale, (plain = new Map()));
    this.plain = plain;
    this.spoken = { uk: formatMessage(locale, "zone.uk"), ireland: formatMessage(locale, "zone.ireland") };
  }
  text(key: MessageKey, values?: TextValues): string {
    if (values !== undefined) return formatMessage(this.locale, key, values);
    let text = this.plain.get(key);
    if (text === undefined) {
      text = formatMessage(this.locale, key);
      this.plain.set(key, text);
    }
    return text;
  }
  html(key: MessageKey, values?: HtmlValues): SafeHtml {
    const escaped: TextValues = {};
    const inner: SafeHtml[] = [];
    for (const [name, value] of Object.entries(values ?? {})) {
      if (value instanceof SafeHtml) inner.push(value);
      escaped[name] = value instanceof SafeHtml ? value.marked : typeof value === "number" ? value : escapeHtml(value);
    }
    return messageHtml(formatMessage(this.locale, key, escaped), inner);
  }
  time(ms: number): string {
    return formatTime(ms, this.timeZone, this.locale);
  }
  timeWithSeconds(ms: number): string {
    return formatTimeWithSeconds(ms, this.timeZone, this.locale);
  }
  date(ms: number): string {
    return formatDate(ms, this.timeZone, this.locale);
  }
  dateTime(ms: number): string {
    return formatDateTime(ms, this.timeZone, this.locale);
  }
  zone(at: number): string {
    return zoneName(this.timeZone, at, this.locale, this.spoken);
  }
  withZone(time: string, at: number, bracketed = true): string {
    const zone = this.zone(at);
    return bracketed ? `${time} (${zone})` : `${time} ${zone}`;
  }
  duration(ms: number): string {
    return durationParts(ms)
      .map(([count, unit]) => this.text(DURATION_KEYS[unit], { count }))
      .join(" ");
  }
  iso(ms: number): string {
    return formatIsoOffset(ms, this.timeZone);
  }
  said(english: string): string {
    return translateSaid(this.locale, english);
  }
}

// Translators hold no per-request state, so one per language and zone serves every request.
const translators = new Map<string, Translator>();

export function translator(locale: Locale, timeZone: string): Translator {
  const id = `${locale}|${timeZone}`;
  let t = translators.get(id);
  if (!t) {
    t = new LocaleTranslator(locale, timeZone);
    translators.set(id, t);
  }
  return t;
}

/** A user's translator outside a request (their mails): saved language and zone, else the defaults. */
export function userTranslator(
  config: { defaultLocale: Locale; timezone: string },
  user: { locale?: string | null; time_zone?: string | null } | undefined,
): Translator {
  return translator(isLocale(user?.locale) ? user.locale : config.defaultLocale, readerTimeZone(user?.time_zone, config.timezone));
}
