import { Kept } from "./kept.ts";

/** Times shown to people, in FAMOS_TIMEZONE, in the guide's style (dd/mm/yyyy, 24-hour clock). */

// Building an Intl.DateTimeFormat costs far more than using one: keep one per zone and style.
const formatters = new Map<string, Intl.DateTimeFormat>();

const STYLES: Record<"time" | "date" | "seconds", Intl.DateTimeFormatOptions> = {
  time: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  date: { day: "2-digit", month: "2-digit", year: "numeric" },
  seconds: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
};

/** One formatter per style, zone and language (issue 16: the reader's zone, in the reader's language). */
function formatter(timeZone: string, style: "time" | "date" | "seconds", locale: string): Intl.DateTimeFormat {
  const key = `${style}|${timeZone}|${locale}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeZone, ...STYLES[style] });
    formatters.set(key, format);
  }
  return format;
}

/**
 * A clock time or a date is the same for every moment of one minute, so each is formatted once per
 * minute, zone and language and kept (issue 17: a Profile page shows three times per session, and an
 * Intl format costs microseconds). Only from 1973 on: every zone's offset since then is a whole
 * number of minutes (Liberia's -0:44:30 was the last to go, in 1972). A few thousand entries at most.
 */
const WHOLE_MINUTE_OFFSETS_FROM = Date.UTC(1973, 0, 1);
const MINUTES_KEPT = 4096;
const byMinute = new Map<string, Kept<number, string>>();

function formatByMinute(ms: number, timeZone: string, style: "time" | "date", locale: string): string {
  return keptByMinute(ms, `${style}|${timeZone}|${locale}`, (at) => formatter(timeZone, style, locale).format(at));
}

/** `format(ms)`, kept per minute under `key` (its style, zone and language) from 1973 on (above). */
function keptByMinute(ms: number, key: string, format: (at: number) => string): string {
  if (!(ms >= WHOLE_MINUTE_OFFSETS_FROM)) return format(ms);
  let kept = byMinute.get(key);
  if (!kept) byMinute.set(key, (kept = new Kept(MINUTES_KEPT)));
  return kept.get(Math.floor(ms / 60_000), (minute) => format(minute * 60_000));
}

export function formatTime(ms: number, timeZone: string, locale = "en-GB"): string {
  return formatByMinute(ms, timeZone, "time", locale);
}

export function formatDate(ms: number, timeZone: string, locale = "en-GB"): string {
  return formatByMinute(ms, timeZone, "date", locale);
}

/** Kept whole per minute too: Profile's sessions show two per listed session (issue 17). */
export function formatDateTime(ms: number, timeZone: string, locale = "en-GB"): string {
  return keptByMinute(ms, `dateTime|${timeZone}|${locale}`, (at) => `${formatDate(at, timeZone, locale)} ${formatTime(at, timeZone, locale)}`);
}

/** j•••@dealer.example: enough to recognise one's own address, not enough to learn someone else's. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "•••";
  return maskedLocal(email, 0) + email.slice(at);
}

/** A local part beginning at `start` as shown: its first character whole (a letter beyond the Basic Multilingual Plane is two UTF-16 units), then "•••". */
export function maskedLocal(text: string, start: number): string {
  return `${String.fromCodePoint(text.codePointAt(start)!)}•••`;
}

/**
 * A mailbox a report names, as support reads it (a forward's `forwardedTo`): the address alone, masked
 * (maskEmail). A display name or a comment with it ("Jane Doe <jane@…>", "jane@… (Jane Doe)") is a third
 * person's name and is dropped, comments first: one holding an "@" ("jane@… (Jane@Doe)") is not taken
 * for the address. Text that names no address is "•••".
 */
export function maskMailbox(named: string): string {
  const uncommented = withoutComments(named);
  const address = (/<([^<>]*)>/.exec(uncommented)?.[1] ?? uncommented).trim();
  const at = address.lastIndexOf("@");
  if (at < 1) return "•••";
  return maskEmail(address.slice(0, at + 1) + /^[^\s()<>]*/.exec(address.slice(at + 1))![0]);
}

/** The text outside RFC 5322 comments ("(…)", nested too); one never closed runs to the end (dropping more is safe). */
function withoutComments(text: string): string {
  let out = "";
  let depth = 0;
  for (const c of text) {
    if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/** 14:02:31: a wait of seconds shown as a clock time (the Regenerate wait). */
export function formatTimeWithSeconds(ms: number, timeZone: string, locale = "en-GB"): string {
  return formatter(timeZone, "seconds", locale).format(ms);
}

/**
 * ISO 8601 with the zone's offset at that moment ("2026-12-01T09:05:00+01:00"): the unambiguous form
 * the support console and the audit CSV show beside the local one.
 */
export function formatIsoOffset(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "longOffset" })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === "GMT" ? "+00:00" : String(parts.timeZoneName).replace(/^GMT/, "");
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** A zone-name formatter, kept like the others (each code mail to a reader outside the UK names the zone). */
function zoneFormatter(timeZone: string, style: "longGeneric" | "shortOffset", locale: string): Intl.DateTimeFormat {
  const key = `${style}|${timeZone}|${locale}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: style });
    formatters.set(key, format);
  }
  return format;
}

/** Names people use for the zones FAMOS's users are in; others take Intl's generic name. */
const ZONE_KINDS: Record<string, SpokenZone> = {
  "Europe/London": "uk",
  "Europe/Belfast": "uk",
  "GB": "uk",
  "Europe/Dublin": "ireland",
};

export type SpokenZone = "uk" | "ireland";
const ENGLISH_ZONES: Record<SpokenZone, string> = { uk: "UK time", ireland: "Irish time" };

/**
 * The time zone as people say it ("UK time", "Eastern Time"), not an IANA identifier; where Intl has
 * no name for it, the offset at `at` ("UTC+9", "UTC").
 */
export function zoneName(timeZone: string, at: number, locale = "en-GB", spoken: Record<SpokenZone, string> = ENGLISH_ZONES): string {
  const kind = ZONE_KINDS[timeZone];
  if (kind) return spoken[kind];
  const part = (style: "longGeneric" | "shortOffset") =>
    zoneFormatter(timeZone, style, locale).formatToParts(at).find((p) => p.type === "timeZoneName")?.value ?? "";
  const generic = part("longGeneric");
  if (generic && !isBareOffset(generic)) return zoneNounInSentence(generic, locale);
  // ICU writes a bare offset "GMT-5" or "GMT+5:30", in French "UTC−5": said as Profile's list says it (utcOffsetName).
  const offset = part("shortOffset");
  const parts = /^(?:GMT|UTC)(?:([+\-−])(\d{1,2})(?::(\d{2}))?)?$/.exec(offset);
  if (!parts) return `UTC${offset.replace(/^(GMT|UTC)/, "")}`;
  const minutes = parts[1] ? Number(parts[2]) * 60 + Number(parts[3] ?? 0) : 0;
  return utcOffsetName(parts[1] === "+" ? minutes : -minutes);
}

/**
 * An offset from UTC as people read it, the one wording of a page's or mail's sentence ("14:02 (UTC−05:00)")
 * and of Profile's list ("UTC−05:00, no summer time"): hours and minutes, the minus sign U+2212 as Intl writes
 * offsets, and no offset plainly "UTC". (The CSVs' time_local_offset is for machines: formatIsoOffset's.)
 */
export function utcOffsetName(minutes: number): string {
  if (minutes === 0) return "UTC";
  const whole = Math.abs(minutes);
  return `UTC${minutes < 0 ? "\u2212" : "+"}${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

/** A "generic" name that is only an offset ("GMT+00:00", French "UTC+00:00", "GMT-05:00"). */
export function isBareOffset(name: string): boolean {
  return /^(GMT|UTC)([+\-−]|$)/.test(name);
}

/**
 * Italian and Spanish zone names begin with a common noun ("Ora dell’Europa centrale", "Hora estándar
 * de Acre") that ICU capitalises as if it began a sentence; inside one, and after a dash, the
 * language writes it in lower case, as French ICU already does ("heure d’Europe centrale"). German
 * nouns and Dutch proper adjectives keep their capitals.
 */
const ZONE_NOUN: Record<string, RegExp> = { it: /^Ora\b/, es: /^Hora\b/, fr: /^Heure\b/ };

export function zoneNounInSentence(name: string, locale: string): string {
  const noun = ZONE_NOUN[locale.split("-")[0]!];
  return noun?.test(name) ? name[0]!.toLowerCase() + name.slice(1) : name;
}
