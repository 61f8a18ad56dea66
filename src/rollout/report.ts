import { csvLine, utcOffset } from "../support/audit-csv.ts";
import { formatDateTime } from "../platform/format.ts";
import type { Figures, RolloutProgress } from "./progress.ts";

/**
 * The CSV export's columns: one row per partner, then "all". starts_local's UTC offset is a column of
 * its own, appended last as the audit CSV's time_local_offset, so the columns before it keep their places.
 */
export const ROLLOUT_CSV_HEADER = ["partner_number", "starts_utc", "starts_local", "users", "enrolled", "pending", "not_started", "locked", "disabled", "starts_local_offset"];

function counts(f: Figures): string[] {
  return [f.users, f.enrolled, f.pending, f.notStarted, f.locked, f.disabled].map(String);
}

export function rolloutCsv(progress: RolloutProgress, timezone: string): string {
  const when = (ms: number | null) => (ms === null ? ["", ""] : [new Date(ms).toISOString(), formatDateTime(ms, timezone)]);
  const offset = (ms: number | null) => (ms === null ? "" : utcOffset(ms, timezone));
  return [
    // A byte order mark, so spreadsheet programs read the file as UTF-8 (as the audit export does).
    `\uFEFF${csvLine(ROLLOUT_CSV_HEADER)}`,
    ...progress.partners.map((p) => csvLine([p.partnerNumber, ...when(p.startsAt), ...counts(p), offset(p.startsAt)])),
    csvLine(["all", "", "", ...counts(progress.overall), ""]),
  ].join("");
}

/** `famos rollout status --json`: the same figures, times as ISO strings. */
export function rolloutJson(progress: RolloutProgress): unknown {
  return {
    overall: progress.overall,
    partners: progress.partners.map((p) => ({ ...p, startsAt: p.startsAt === null ? null : new Date(p.startsAt).toISOString() })),
    enrolmentsPerDay: progress.days,
  };
}

/** `famos rollout status` for a terminal: a fixed-width table. */
export function rolloutText(progress: RolloutProgress, timezone: string): string {
  const head = ["Partner", "Starts", "Users", "Enrolled", "Pending", "Not started", "Locked", "Disabled"];
  const rows = progress.partners.map((p) => [p.partnerNumber, p.startsAt === null ? "now (no plan)" : formatDateTime(p.startsAt, timezone), ...counts(p)]);
  rows.push(["All", "", ...counts(progress.overall)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const percent = progress.overall.users === 0 ? 0 : Math.round((100 * progress.overall.enrolled) / progress.overall.users);
  return `${[line(head), ...rows.map(line)].join("\n")}\n\n${percent}% of users have a confirmed OTP email (times in ${timezone}).\n`;
}
