import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { ROLES, type Role, type User } from "../users/users.ts";
import { refusal, type Acting, type Refusal } from "./acting.ts";

export type RoleOutcome =
  | { kind: "changed"; from: Role; to: Role }
  | { kind: "unchanged"; role: Role }
  | { kind: "unknown-role" }
  | Refusal;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Roles are managed by administrators alone, never on their own account (SPEC "People"). The new
 * role applies from the user's next request: access is checked against the stored role each time.
 */
export async function changeRole(deps: Deps, by: Acting, target: User, role: string): Promise<RoleOutcome> {
  const refused = refusal(by, target, "role");
  if (refused) return refused;
  if (!isRole(role)) return { kind: "unknown-role" };
  if (target.role === role) return { kind: "unchanged", role };
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (tx) => {
    await tx.updateTable("users").set({ role, updated_at: now }).where("id", "=", target.id).execute();
    await recordAudit(tx, now, { ...by.audit, event: "role.changed", subject: target.login_id, detail: { from: target.role, to: role } });
  });
  return { kind: "changed", from: target.role, to: role };
}
