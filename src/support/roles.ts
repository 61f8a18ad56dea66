import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { findUserTakingTurns, ROLES, type Role, type User } from "../users/users.ts";
import { refusal, type Acting, type Refusal } from "./acting.ts";

export type RoleOutcome =
  | { kind: "changed"; from: Role; to: Role }
  | { kind: "unchanged"; role: Role }
  | { kind: "unknown-role" }
  | { kind: "not-found" }
  | Refusal;

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
 */
export async function changeRole(deps: Deps, by: Acting, target: User, role: string): Promise<RoleOutcome> {
  const refused = refusal(by, target, "role");
  if (refused) return refused;
  if (!isRole(role)) return { kind: "unknown-role" };
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx): Promise<RoleOutcome> => {
    const current = await findUserTakingTurns(tx, deps.dialect, target.id);
    if (!current) return { kind: "not-found" };
    if (current.role === role) return { kind: "unchanged", role };
    await tx.updateTable("users").set({ role, updated_at: now }).where("id", "=", current.id).execute();
    await recordAudit(tx, now, { ...by.audit, event: "role.changed", subject: current.login_id, detail: { from: current.role, to: role } });
    return { kind: "changed", from: current.role, to: role };
  });
}
