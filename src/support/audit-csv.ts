import type { AuditRecord } from "../audit/audit.ts";
import { formatDateTime, formatIsoOffset } from "../platform/format.ts";

/**
 * "UTC+01:00": the offset of `timeZone` at `ms` (ISO 8601's, the tail of formatIsoOffset). Named
 * UTC in front: a bare "+01:00" starts like a formula, which guardFormula would have to quote. The
 * rollout CSV's starts_local_offset is the same.
 */
export const utcOffset = (ms: number, timeZone: string): string => `UTC${formatIsoOffset(ms, timeZone).slice(19)}`;

/**
 * The export's columns. time_local is the reader's wall clock (dd/mm/yyyy hh:mm, which spreadsheets
 * read as a date); its UTC offset is a column of its own, appended last so the columns before it
 * keep their names and places: without it, the hour the clocks go back reads the same twice.
 */
export const AUDIT_CSV_HEADER = ["time_utc", "time_local", "event", "actor", "subject", "ip", "user_agent", "detail", "time_local_offset"];

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or CR) as a formula, and the trail
 * holds text anyone can type (a login ID at sign-in, a user agent). OWASP "CSV Injection": prefix
 * such cells with a single quote so they are shown as text. Spreadsheets also skip leading white
 * space (space, NBSP, line feed, tab, CR, ideographic space) and read the full-width forms ＝ ＋ －
 * ＠ as their ASCII twins (issue 19.7), so those are looked through too, and so are the characters a
 * reader cannot see in front of them: zero-width and other format characters (U+200B, U+2060, bidi
 * marks, soft hyphen), the BOM (U+FEFF) and the rest of Unicode's default-ignorable ones (Hangul
 * fillers, U+034F), control characters (C0 and C1, NEL U+0085 among them, which JavaScript's \s
 * leaves out) and the braille blank (U+2800, drawn as nothing and not white space), in any mix with
 * white space: defence in depth, since which of them a spreadsheet skips varies by product and
 * version. A tab, CR or line feed behind such a run is guarded as one at the very start is.
 */
const FORMULA_START = /^[\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]*[=+\-@\uff1d\uff0b\uff0d\uff20\t\r\n]/u;

export function guardFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** RFC 4180: every field quoted, quotes doubled; the quotes keep commas and line breaks inside it. */
export function csvField(value: string): string {
  return `"${guardFormula(value).replace(/"/g, '""')}"`;
}

export function csvLine(values: readonly string[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

export function auditCsvRow(record: AuditRecord, timezone: string): string {
  return csvLine([
    new Date(record.time).toISOString(),
    formatDateTime(record.time, timezone),
    record.event,
    record.actor ?? "",
    record.subject ?? "",
    record.ip ?? "",
    record.userAgent ?? "",
    JSON.stringify(record.detail),
    utcOffset(record.time, timezone),
  ]);
}
