import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { disableUser } from "../account/disable.ts";
import type { Acting } from "../support/acting.ts";
import { splitByLastAdmin } from "../support/roles.ts";
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
  for (let from = 0; from < partners.length; from += 500) {
    const users = await db
      .selectFrom("users")
      .selectAll()
      .where("partner_number", "in", partners.slice(from, from + 500))
      .where("disabled_at", "is", null)
      .orderBy("login_key")
      .execute();
    missing.push(...users.filter((u) => !listed.has(u.login_key)));
  }
  return missing.sort((a, b) => a.partner_number.localeCompare(b.partner_number) || a.login_key.localeCompare(b.login_key));
}

/**
 * How many new administrators the file's rows would make (role admin, a login ID no account has): the
 * real `--sync` imports them before it disables anyone, so its dry run counts them (splitByLastAdmin).
 */
export async function administratorsTheFileAdds(db: Kysely<Database>, rows: readonly { loginId: string; role: string }[]): Promise<number> {
  const keys = [...new Set(rows.filter((r) => r.role === "admin").map((r) => loginKey(r.loginId)))];
  let existing = 0;
  for (let from = 0; from < keys.length; from += 500) {
    existing += (await db.selectFrom("users").select("login_key").where("login_key", "in", keys.slice(from, from + 500)).execute()).length;
  }
  return keys.length - existing;
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
    const outcome = await disableUser(deps, by, user.id);
    if (outcome.kind === "disabled") disabled.push(user);
    if (outcome.kind === "last-admin") keptLastAdmin.push(user);
  }
  return { disabled, keptLastAdmin };
}
