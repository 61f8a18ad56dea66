import { terminalJson } from "../platform/terminal-text.ts";
import type { Deps } from "../app/deps.ts";
import type { Actor } from "../audit/audit.ts";
import type { Config } from "../config/config.ts";
import { checkEmailEntry } from "../enrolment/email-rules.ts";
import { checkImportedHash } from "../password/hash.ts";
import { storeImportedUsers, type ImportedUser, type RefusedRow, type StoreReport } from "../support/import-users.ts";
import { loginKey, ROLES, type Role } from "../users/users.ts";
import { parseCsv } from "./csv.ts";
import { userFieldProblem } from "../users/fields.ts";

/** SPEC "Command line": the columns of `famos user import`, in any order. */
export const IMPORT_COLUMNS = ["login_id", "full_name", "partner_number", "role", "email", "password_hash"] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

export type CheckedFile =
  | { ok: false; message: string }
  | { ok: true; rows: ImportedUser[]; refused: RefusedRow[] };

/**
 * Reads the file's rows and checks each one as `user add` checks its arguments. The header must
 * name the six columns exactly once each (order free, case and surrounding spaces ignored); a wrong
 * header refuses the whole file, since no row could be read with confidence.
 */
export function checkImportFile(text: string, enrolment: Config["enrolment"]): CheckedFile {
  const records = parseCsv(text);
  const header = records[0];
  if (!header) return { ok: false, message: `the file is empty; its first line must be the header ${IMPORT_COLUMNS.join(",")}` };
  if ("error" in header) return { ok: false, message: `line ${header.line} (the header): ${header.error}` };
  const positions = headerPositions(header.fields);
  if (typeof positions === "string") return { ok: false, message: `line ${header.line} (the header): ${positions}` };

  const rows: ImportedUser[] = [];
  const refused: RefusedRow[] = [];
  for (const record of records.slice(1)) {
    if ("error" in record) {
      refused.push({ line: record.line, reason: record.error });
      continue;
    }
    if (record.fields.length !== IMPORT_COLUMNS.length) {
      refused.push({ line: record.line, reason: `${record.fields.length} fields where the header has ${IMPORT_COLUMNS.length}` });
      continue;
    }
    const get = (column: Column) => record.fields[positions[column]]!;
    const row = checkRow(record.line, get, enrolment);
    if ("reason" in row) refused.push(row);
    else rows.push(row);
  }
  return { ok: true, ...refuseRepeatedLoginIds(rows, refused) };
}

function headerPositions(fields: string[]): Record<Column, number> | string {
  const names = fields.map((f) => f.trim().toLowerCase());
  const unknown = names.filter((n) => !(IMPORT_COLUMNS as readonly string[]).includes(n));
  const missing = IMPORT_COLUMNS.filter((c) => !names.includes(c));
  const repeated = IMPORT_COLUMNS.filter((c) => names.indexOf(c) !== names.lastIndexOf(c));
  const problems = [
    unknown.length ? `unknown column${unknown.length > 1 ? "s" : ""} ${someOf(unknown)}` : "",
    missing.length ? `missing ${missing.join(", ")}` : "",
    repeated.length ? `repeated ${repeated.join(", ")}` : "",
  ].filter(Boolean);
  if (problems.length) return `${problems.join("; ")}. The header must be ${IMPORT_COLUMNS.join(",")} (any order).`;
  return Object.fromEntries(IMPORT_COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<Column, number>;
}

/**
 * Names as a report line shows them: each once, the first five, and how many in all when that is
 * more (a header of 50,000 stray commas made a 200 KB line of "", "", "").
 */
function someOf(names: string[]): string {
  const distinct = [...new Set(names)];
  const listed = distinct.slice(0, 5).map(shown).join(", ") + (distinct.length > 5 ? ", …" : "");
  return names.length > Math.min(distinct.length, 5) ? `${listed} (${names.length} in all)` : listed;
}

/** Every problem of a row, not only the first, so one pass over the report fixes the file. */
function checkRow(line: number, get: (column: Column) => string, enrolment: Config["enrolment"]): ImportedUser | RefusedRow {
  const fields = { loginId: get("login_id").trim(), fullName: get("full_name").trim(), partnerNumber: get("partner_number").trim() };
  const problems: string[] = [];
  // The rules for new login IDs (invisible characters, look-alikes) are for accounts the import makes:
  // storeImportedUsers asks them (refusedNewcomers, import-users.ts); names and the rest are checked here.
  const fieldProblem = userFieldProblem(fields, { newLoginId: false });
  if (fieldProblem) problems.push(fieldProblem);

  const roleText = get("role").trim().toLowerCase() || "user";
  if (!(ROLES as readonly string[]).includes(roleText)) problems.push(`role ${shown(get("role").trim())} is not one of ${ROLES.join(", ")}`);

  let email: string | null = null;
  if (get("email").trim() !== "") {
    // The operator vouches for the address (it is taken as confirmed), so the shared-mailbox
    // warning does not apply; the syntax, length and allowed domains do, as for `user add --email`.
    const check = checkEmailEntry({ email: get("email"), confirmEmail: get("email"), ownMailbox: true }, { ...enrolment, sharedMailboxPolicy: "off" });
    if (check.ok) email = check.email;
    else problems.push(`email: ${check.message.replace(/\.$/, "")}`);
  }

  const passwordHash = get("password_hash").trim();
  if (passwordHash === "") problems.push("password_hash is empty");
  else {
    const hashCheck = checkImportedHash(passwordHash);
    if (!hashCheck.ok) problems.push(hashCheck.reason);
  }

  if (problems.length) return { line, reason: problems.join("; ") };
  return { line, ...fields, role: roleText as Role, email, passwordHash };
}

/** A value from the file as the report shows it: quoted, bounded, control characters escaped (no terminal escapes). */
function shown(value: string): string {
  const short = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return terminalJson(short);
}

/** Login IDs repeated in the file (the same login key: case and accent composition ignored) are ambiguous: none of those rows is taken. */
function refuseRepeatedLoginIds(rows: ImportedUser[], refused: RefusedRow[]): { rows: ImportedUser[]; refused: RefusedRow[] } {
  const lines = new Map<string, number[]>();
  for (const row of rows) {
    const key = loginKey(row.loginId);
    lines.set(key, [...(lines.get(key) ?? []), row.line]);
  }
  const kept: ImportedUser[] = [];
  for (const row of rows) {
    const same = lines.get(loginKey(row.loginId))!;
    if (same.length === 1) kept.push(row);
    else refused.push({ line: row.line, reason: `login ID "${row.loginId}" appears on lines ${same.join(", ")} (case ignored); none of them was taken` });
  }
  return { rows: kept, refused };
}

export interface ImportReport {
  added: number;
  updated: number;
  unchanged: number;
  /** --resume: rows whose login ID an earlier run had already taken. */
  skipped: number;
  /** Refused rows in file order. */
  refused: RefusedRow[];
  /** Accounts an earlier `--sync` disabled, enabled again by a row moving them (support/import-movers.ts enablesAgain). */
  enabled: StoreReport["enabled"];
  /** --update: file hashes recorded, not applied (support/imported-password.ts notApplied). */
  recordedNotApplied: number;
  /** The first of those accounts (NOT_APPLIED_NAMED), in file order. */
  notAppliedNamed: StoreReport["notAppliedNamed"];
  /** The rows that passed the checks, to be stored. */
  rows: number;
  /** Stopped (Ctrl-C) after this many of `rows`, all committed; null when it went through them all. */
  stoppedAfter: number | null;
}

/** The whole import of one file's text: checks, then batched writes. */
export async function importUsersCsv(
  deps: Deps,
  text: string,
  options: {
    update: boolean;
    keepExisting?: boolean;
    resume?: boolean;
    emailAsContact?: boolean;
    actor: Actor;
    onStart?(rows: number): void;
    onProgress?(done: number): void;
    shouldStop?(): boolean;
  },
): Promise<{ ok: false; message: string } | ({ ok: true } & ImportReport)> {
  const checked = checkImportFile(text, deps.config.enrolment);
  if (!checked.ok) return checked;
  options.onStart?.(checked.rows.length);
  const stored = await storeImportedUsers(deps, checked.rows, options);
  const refused = [...checked.refused, ...stored.refused].sort((a, b) => a.line - b.line);
  return { ok: true, added: stored.added, updated: stored.updated, unchanged: stored.unchanged, skipped: stored.skipped, refused, enabled: stored.enabled, recordedNotApplied: stored.recordedNotApplied, notAppliedNamed: stored.notAppliedNamed, rows: checked.rows.length, stoppedAfter: stored.stoppedAfter };
}
