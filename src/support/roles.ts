import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Database } from "../store/schema.ts";
import { findUserTakingTurns, ROLES, type Role, type User } from "../users/users.ts";
import { actingNowTakingTurns, refusal, type Acting, type Refusal } from "./acting.ts";

export type RoleOutcome =
  | { kind: "changed"; from: Role; to: Role }
  | { kind: "unchanged"; role: Role }
  | { kind: "unknown-role" }
  | { kind: "not-found" }
  | LastAdmin
  | Refusal;

/** The refusal of an action that would leave no enabled administrator (lastAdminRefusal). */
export type LastAdmin = { kind: "last-admin" };

/**
 * The one wording of lastAdminRefusal's refusal, wherever it is said: the console (409, translated from
 * said.console.lastAdmin), `famos user role | disable | delete --erase`, `import --sync` (after the login
 * ID) and `import --update`'s refused row (after its line and login ID, support/import-users.ts).
 */
export const LAST_ADMIN = "This is the last administrator: make another account an administrator first.";

/** An import row's refusal to demote the last enabled administrator: LAST_ADMIN after the login ID. */
export function lastAdminRowReason(loginId: string): string {
  return `"${loginId}": ${LAST_ADMIN}`;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Roles are managed by administrators alone, never on their own account (SPEC "People"). The new
 * role applies from the user's next request: access is checked against the stored role each time.
 *
 * `target` is the account as the request read it, for the rules (which name only its id); the role
 * it replaces is read again in the writing transaction, the user's row taken first (users.ts,
 * findUserTakingTurns), so that another role change committed in between is what role.changed's
 * "from" names, and a role it already gave is no change and no event.
 *
 * An enabled administrator always stays (the operator's `famos user role` is refused the last one):
 * with none, nobody could manage roles from the console. The acting person's role and the count are
 * read in the writing transaction, after the rows of the actor, the target and every administrator are
 * taken (actingNowTakingTurns): two administrators demoting each other at once were each, by the session
 * read before either wrote, still an administrator, and both changes passed, leaving none.
 */
export async function changeRole(deps: Deps, by: Acting, target: User, role: string): Promise<RoleOutcome> {
  const refused = refusal(by, target, "role");
  if (refused) return refused;
  if (!isRole(role)) return { kind: "unknown-role" };
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx): Promise<RoleOutcome> => {
    const actor = await actingNowTakingTurns(tx, deps.dialect, by, target.id);
    const current = await findUserTakingTurns(tx, deps.dialect, target.id);
    if (!current) return { kind: "not-found" };
    const refusedNow = refusal(actor, current, "role");
    if (refusedNow) return refusedNow;
    if (current.role === role) return { kind: "unchanged", role };
    const last = await lastAdminRefusal(tx, current);
    if (last) return last;
    await tx.updateTable("users").set({ role, updated_at: now }).where("id", "=", current.id).execute();
    await recordAudit(tx, now, { ...by.audit, event: "role.changed", subject: current.login_id, detail: { from: current.role, to: role } });
    return { kind: "changed", from: current.role, to: role };
  });
}

/**
 * An enabled administrator always stays: the one rule of every action that takes an administrator's
 * access away (a role change, a disable, an erasure; changeRole, account/disable.ts, account/erase.ts),
 * whoever asks (the operator at the command line included: `famos user role | disable | delete --erase`,
 * `import --sync`, and `import --update`'s role column, support/import-users.ts). With none, nobody could
 * manage roles from the console. `target` is the account as
 * read in the action's transaction `tx` after actingNowTakingTurns, which on PostgreSQL has taken the rows
 * of every enabled administrator: two such actions at once on the last two count one after the other.
 * A disabled administrator does not count, and may go.
 */
export async function lastAdminRefusal(tx: Kysely<Database>, target: User): Promise<LastAdmin | null> {
  if (!isEnabledAdmin(target)) return null;
  return isLastOf(await enabledAdmins(tx)) ? { kind: "last-admin" } : null;
}

/**
 * `famos user import --sync`'s users missing from the file, split as disabling them one after the
 * other would (users/sync.ts, disableMissing): by lastAdminRefusal's rule, each enabled administrator
 * goes while another stays, and the last one is kept. The dry run says this, counting the administrators
 * the real run's import adds, demotes and (`--update`) promotes before it disables (`adminsChangedFirst`,
 * countImportedRoles); the real run disables `disable` and
 * keeps `keptLastAdmin`, and each disable still asks lastAdminRefusal in its transaction.
 */
export async function splitByLastAdmin(db: Kysely<Database>, users: readonly User[], adminsChangedFirst = 0): Promise<{ disable: User[]; keptLastAdmin: User[] }> {
  let admins = users.some(isEnabledAdmin) ? (await enabledAdmins(db)) + adminsChangedFirst : 0;
  const disable: User[] = [];
  const keptLastAdmin: User[] = [];
  for (const user of users) {
    if (!isEnabledAdmin(user)) disable.push(user);
    else if (isLastOf(admins)) keptLastAdmin.push(user);
    else {
      disable.push(user);
      admins -= 1;
    }
  }
  return { disable, keptLastAdmin };
}

/** An existing account's role as one row of `famos user import --update` would set it (users/sync.ts). */
export interface ImportedRole {
  line: number;
  user: User;
  role: Role;
}

/**
 * `famos user import --update`'s role changes counted as its batches make them, for `--sync --dry-run`
 * (users/sync.ts): each batch adds its new administrators (`adds`) first, then changes its rows in file
 * order, each asked lastAdminRefusal's rule on the count so far: demoting the last enabled administrator
 * is refused (the real run refuses that row, and so disables nobody), another demotion takes one away,
 * making an enabled account an administrator adds one. Returns the count's change and the refused rows.
 */
export async function countImportedRoles(db: Kysely<Database>, batches: readonly { adds: number; roles: readonly ImportedRole[] }[]): Promise<{ adminsChanged: number; refused: ImportedRole[] }> {
  const before = await enabledAdmins(db);
  let admins = before;
  const refused: ImportedRole[] = [];
  for (const batch of batches) {
    admins += batch.adds;
    for (const change of batch.roles) {
      if (change.role === change.user.role || change.user.disabled_at !== null) continue;
      if (change.role === "admin") admins += 1;
      else if (!isEnabledAdmin(change.user)) continue;
      else if (isLastOf(admins)) refused.push(change);
      else admins -= 1;
    }
  }
  return { adminsChanged: admins - before, refused };
}

function isEnabledAdmin(user: User): boolean {
  return user.role === "admin" && user.disabled_at === null;
}

/** The rule: an enabled administrator is the last when they are the only one (or the count is stale). */
function isLastOf(enabledAdminCount: number): boolean {
  return enabledAdminCount <= 1;
}

async function enabledAdmins(db: Kysely<Database>): Promise<number> {
  const { n } = await db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).where("role", "=", "admin").where("disabled_at", "is", null).executeTakeFirstOrThrow();
  return Number(n);
}
