import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { disableUser } from "../account/disable.ts";
import type { Acting } from "../support/acting.ts";
import { importBatches, importRowAction, type ImportedUser, type RefusedRow } from "../support/import-users.ts";
import { enablesAgain, keptOtpEmail } from "../support/import-movers.ts";
import { countImportedRoles, lastAdminRowReason, splitByLastAdmin, type ImportedRole } from "../support/roles.ts";
import { KEYS_PER_IN_LIST, slicesOf } from "../store/in-lists.ts";
import type { Database } from "../store/schema.ts";
import { loginKey, type User } from "./users.ts";

/**
 * `famos user import --sync` (issue 11): the users of the partners named in the file who are missing
 * from it and still enabled — the leavers of a dealer's staff list. Partners the file does not name
 * are never touched, so a file for one dealer cannot disable another's staff.
 */
export async function usersMissingFromFile(db: Kysely<Database>, rows: readonly { loginId: string; partnerNumber: string }[]): Promise<User[]> {
  const partners = [...new Set(rows.map((r) => r.partnerNumber.trim()))];
  const listed = new Set(rows.map((r) => loginKey(r.loginId)));
  const missing: User[] = [];
  // Bounded IN lists: a national file names hundreds of partners.
  for (const slice of slicesOf(partners, KEYS_PER_IN_LIST)) {
    const users = await db
      .selectFrom("users")
      .selectAll()
      .where("partner_number", "in", slice)
      .where("disabled_at", "is", null)
      .orderBy("login_key")
      .execute();
    missing.push(...users.filter((u) => !listed.has(u.login_key)));
  }
  return missing.sort((a, b) => a.partner_number.localeCompare(b.partner_number) || a.login_key.localeCompare(b.login_key));
}

/**
 * What the file's rows would do to the count of enabled administrators before the real `--sync` disables
 * anyone: its import adds the new administrators (role admin, a login ID no account has) and, with
 * `--update`, changes the roles of existing accounts, in the batches storeImportedUsers writes
 * (importBatches, support/import-users.ts), each demotion asked the last-administrator rule (countImportedRoles,
 * support/roles.ts). The dry run splits by the change (splitByLastAdmin) and names the rows the real
 * run refuses for demoting the last one (lastAdminRowReason), which then disables nobody. `refusedLines`:
 * the rows its batches refuse before they write (refusedNewcomers), which add no administrator and
 * keep their places in the batches. `enabled`: the accounts its rows enable again (enablesAgain), each
 * counted at the end of its row's batch as one made an administrator when the row's role is admin, as the
 * real run's enable (after the batch commits, support/import-movers.ts enableMover) adds one.
 */
export async function importedAdminChanges(
  db: Kysely<Database>,
  rows: readonly ImportedUser[],
  update: boolean,
  refusedLines: ReadonlySet<number>,
): Promise<{ adminsChanged: number; refused: RefusedRow[]; enabled: { user: User; keptOtpEmail: string | null }[] }> {
  const existing = new Map<string, User>();
  // Without --update only the administrators' rows can change the count: only theirs are looked up.
  const keys = [...new Set(rows.filter((r) => update || r.role === "admin").map((r) => loginKey(r.loginId)))];
  // Bounded IN lists: a dry run asks of a whole file at once.
  for (const slice of slicesOf(keys, KEYS_PER_IN_LIST)) {
    for (const user of await db.selectFrom("users").selectAll().where("login_key", "in", slice).execute()) existing.set(user.login_key, user);
  }
  const added = new Set<string>();
  const batches: { adds: number; roles: ImportedRole[] }[] = [];
  const enabled: { user: User; keptOtpEmail: string | null }[] = [];
  // The real run's batches and its decision per row (importBatches, importRowAction): reads, no writes.
  for (const { batch } of importBatches(rows)) {
    const counted = { adds: 0, roles: [] as ImportedRole[] };
    // The real run enables after the batch commits (enableMover): counted after the batch's own rows.
    const enables: ImportedRole[] = [];
    for (const row of batch) {
      if (refusedLines.has(row.line)) continue;
      const key = loginKey(row.loginId);
      const user = existing.get(key);
      const action = importRowAction(user, { update, keepExisting: true });
      if (user !== undefined && action === "update") {
        counted.roles.push({ line: row.line, user, role: row.role });
        if (enablesAgain(user, row, { update })) {
          // The dry run reads no --email-as-contact: an empty email column is what it tells.
          enabled.push({ user: { ...user, partner_number: row.partnerNumber.trim(), otp_email: row.email ?? user.otp_email }, keptOtpEmail: keptOtpEmail(user, row, false) });
          // Enabled as a user: no change in the count; as an administrator: one more, from the batch's end on.
          enables.push({ line: row.line, user: { ...user, role: "user", disabled_at: null }, role: row.role });
        }
      } else if (action === "add" && !added.has(key)) {
        added.add(key);
        if (row.role === "admin") counted.adds += 1;
      }
    }
    batches.push({ adds: counted.adds, roles: [...counted.roles, ...enables] });
  }
  const { adminsChanged, refused } = await countImportedRoles(db, batches);
  return { adminsChanged, refused: refused.map((r) => ({ line: r.line, reason: lastAdminRowReason(r.user.login_id) })), enabled };
}

/**
 * Disables each one as `famos user disable` would (sessions end, codes void, audited one by one): those
 * disabled, and the last enabled administrator kept if the file leaves them out — split first by the
 * rule the dry run uses (splitByLastAdmin, support/roles.ts), then asked again by each disable in its
 * transaction (lastAdminRefusal), which keeps one that another operator's action made the last meanwhile.
 */
export async function disableMissing(deps: Deps, by: Acting, users: readonly User[]): Promise<{ disabled: User[]; keptLastAdmin: User[] }> {
  const { disable, keptLastAdmin } = await splitByLastAdmin(deps.db, users);
  const disabled: User[] = [];
  for (const user of disable) {
    const outcome = await disableUser(deps, by, user.id, { bySync: true });
    if (outcome.kind === "disabled") disabled.push(user);
    if (outcome.kind === "last-admin") keptLastAdmin.push(user);
  }
  return { disabled, keptLastAdmin };
}
