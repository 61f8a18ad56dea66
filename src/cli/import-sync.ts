import { translator } from "../i18n/translator.ts";
import { terminalText } from "../platform/terminal-text.ts";
import type { Deps } from "../app/deps.ts";
import { refusedNewcomers } from "../support/import-users.ts";
import type { EnabledMover } from "../support/import-movers.ts";
import { LAST_ADMIN, splitByLastAdmin } from "../support/roles.ts";
import { otherEnabledHolders } from "../users/shared-address.ts";
import { importedAdminChanges, disableMissing, usersMissingFromFile } from "../users/sync.ts";
import type { User } from "../users/users.ts";
import { operator } from "./context.ts";
import type { CheckedFile } from "./import-file.ts";
import { Refused } from "./io.ts";

/** Accounts as the import's report lines name them: one a line, login ID, name and partner, terminal-safe. */
export function userListing(users: readonly User[]): string {
  return users.map((u) => `  ${terminalText(`${u.login_id} (${u.full_name}, partner ${u.partner_number})`)}\n`).join("");
}

/**
 * The accounts an earlier `--sync` disabled that the file's `--update` rows enable again, at their new
 * partner (enablesAgain, support/import-movers.ts): said after the rows taken, as the sync's disables are.
 * An enabled one whose OTP email another enabled login ID has is told as `famos user enable` tells it.
 */
export function enabledAgainText(deps: Deps, enabled: readonly EnabledMover[], dryRun: boolean): string {
  if (enabled.length === 0) return "";
  const n = enabled.length;
  const shared = translator("en-GB", deps.config.timezone).text("console.done.enabledShared");
  // An OTP email the row did not set may be the old dealer's mailbox, where the codes would go.
  const kept = (address: string | null) => (address === null ? "" : `    ${terminalText(`OTP email still ${address}: reset it if it was the old dealer's.`)}\n`);
  const lines = enabled.map(({ user, sharedWith, keptOtpEmail }) => `${userListing([user])}${sharedWith > 0 ? `    ${shared}\n` : ""}${kept(keptOtpEmail)}`).join("");
  return `${dryRun ? "Dry run: " : ""}${n} ${n === 1 ? "user" : "users"} disabled by another partner's --sync ${dryRun ? "would be " : ""}enabled again, now at the partner in the file:\n${lines}`;
}

/**
 * `--sync --dry-run`: who would be disabled and the last enabled administrator who would be kept (exit
 * 1, as the real run), and each row the real run refuses (the file's checks, a login ID of an account it
 * would make that holds an invisible character or looks like another, and with `--update` a row demoting the last enabled administrator, which need
 * the accounts); nothing is written.
 */
export async function syncDryRun(deps: Deps, checked: CheckedFile, update: boolean): Promise<void> {
  if (!checked.ok) throw new Refused(checked.message);
  // Split by the rule the real run's disables follow (splitByLastAdmin), after the administrators its
  // import adds, demotes and (--update) promotes: the last administrator stays.
  const missing = await usersMissingFromFile(deps.db, checked.rows);
  // A refused newcomer is refused in its batch before the batch writes: it adds no administrator.
  const newcomers = await refusedNewcomers(deps.db, checked.rows);
  const roles = await importedAdminChanges(deps.db, checked.rows, update, new Set(newcomers.map((r) => r.line)));
  const { disable, keptLastAdmin } = await splitByLastAdmin(deps.db, missing, roles.adminsChanged);
  const partners = new Set(checked.rows.map((r) => r.partnerNumber)).size;
  process.stdout.write(`Dry run: ${disable.length} ${disable.length === 1 ? "user" : "users"} of the ${partners} ${partners === 1 ? "partner" : "partners"} in the file would be disabled${disable.length ? ":" : "."}\n${userListing(disable)}`);
  for (const user of keptLastAdmin) process.stderr.write(`${terminalText(user.login_id)} would not be disabled: ${LAST_ADMIN}\n`);
  if (keptLastAdmin.length > 0) process.exitCode = 1;
  // Each one's OTP email as enableUser counts it (otherEnabledHolders), now: before this file's rows change any.
  const enabled = await Promise.all(roles.enabled.map(async ({ user, keptOtpEmail }) => ({ user, keptOtpEmail, sharedWith: user.otp_email === null ? 0 : await otherEnabledHolders(deps, user.otp_email, user.id) })));
  process.stdout.write(enabledAgainText(deps, enabled, true));
  const refused = [...checked.refused, ...newcomers, ...roles.refused].sort((a, b) => a.line - b.line);
  if (refused.length > 0) {
    const lines = refused.map((r) => `  line ${r.line}: ${terminalText(r.reason)}\n`).join("");
    process.stderr.write(`${refused.length} ${refused.length === 1 ? "row is" : "rows are"} refused: a real run disables nobody until the file is fixed.\n${lines}`);
    process.exitCode = 1;
  }
}

/**
 * `--sync` after the import: a file with refused rows disables nobody, since a refused row may be a
 * colleague who is still there. The last enabled administrator is never disabled (exit 1, said).
 */
export async function syncAfterImport(deps: Deps, checked: CheckedFile, refused: number): Promise<void> {
  if (!checked.ok) return;
  if (refused > 0) {
    process.stderr.write("No user was disabled: fix the refused rows and run the import with --sync again.\n");
    return;
  }
  const missing = await usersMissingFromFile(deps.db, checked.rows);
  const { disabled, keptLastAdmin } = await disableMissing(deps, { user: null, audit: operator() }, missing);
  const n = disabled.length;
  process.stdout.write(`${n} ${n === 1 ? "user" : "users"} missing from the file disabled${n ? ":" : "."}\n${userListing(disabled)}`);
  for (const user of keptLastAdmin) process.stderr.write(`${terminalText(user.login_id)} was not disabled: ${LAST_ADMIN}\n`);
  if (keptLastAdmin.length > 0) process.exitCode = 1;
}
