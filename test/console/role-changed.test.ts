import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import type { Acting } from "../../src/support/acting.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * The console's role change reads its target for the request (the user's page, a 404), then writes
 * the new role. Another administrator (or the operator at the command line) may change the same
 * role in between: the audit trail's role.changed must name the role actually replaced, and a role
 * already the requested one is no change at all. Each test commits the other change, on a second
 * connection, the moment the request has read its target.
 */
describe.each(DIALECTS)("two role changes of one user at once on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "role_changed");

  const actingAs = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.60", userAgent: "role-changed-test" } });

  /** The target as the request reads it, with `role` committed by `other` on the second connection at that moment. */
  async function readWhileChanged(other: User, target: User, role: User["role"]) {
    const otherChange = async () => changeRole(competing.t.deps[1]!, actingAs(other), (await findUserById(competing.t.deps[1]!.db, target.id))!, role);
    const { deps, changed } = competing.during((rows) => rows.some((row) => row.id === target.id && "role" in row), otherChange);
    const read = (await findUserById(deps.db, target.id))!;
    expect(changed()).toBe(true);
    return { deps, read };
  }

  const roleEvents = async (target: User) =>
    (await queryAudit(competing.t.deps[0]!.db, { subject: target.login_id, event: "role.changed" })).map((e) => ({ actor: e.actor, detail: e.detail })).reverse();

  it("the audit's 'from' names the role the change replaced, not the one the request read", async () => {
    const [first, second, target] = [await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!)];
    const { deps, read } = await readWhileChanged(second, target, "admin");
    expect(read.role).toBe("user");
    expect(await changeRole(deps, actingAs(first), read, "support")).toEqual({ kind: "changed", from: "admin", to: "support" });
    expect((await findUserById(competing.t.deps[0]!.db, target.id))!.role).toBe("support");
    expect(await roleEvents(target)).toEqual([
      { actor: second.login_id, detail: { from: "user", to: "admin" } },
      { actor: first.login_id, detail: { from: "admin", to: "support" } },
    ]);
  });

  it("a role the other change already gave is unchanged, and written to the audit trail once", async () => {
    const [first, second, target] = [await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!)];
    const { deps, read } = await readWhileChanged(second, target, "support");
    expect(await changeRole(deps, actingAs(first), read, "support")).toEqual({ kind: "unchanged", role: "support" });
    expect(await roleEvents(target)).toEqual([{ actor: second.login_id, detail: { from: "user", to: "support" } }]);
  });
});
