import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import type { Acting } from "../../src/support/acting.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
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

/**
 * `famos user import --update` writes role.changed of its own. On PostgreSQL its batch reads the
 * existing accounts without taking their rows, so a role change committed between that read and the
 * import's write must still be what "from" names, as for the console's (changeRole): the account is
 * read again, its row taken first (findUserTakingTurns). SQLite needs no test of its own: the batch
 * writes (its inserts) before it reads, so no other writer comes in between.
 */
describe("a role changed while famos user import --update reads its accounts on postgres", () => {
  const competing = useCompeting("postgres", "role_import");
  const operator = { actor: "operator:test", ip: "cli", userAgent: "role-import-test" };

  async function importWhileChanged(target: User, other: User, role: User["role"], imported: User["role"]) {
    const a = competing.t.deps[0]!;
    const current = (await findUserById(a.db, target.id))!;
    const otherChange = async () => changeRole(competing.t.deps[1]!, { user: other, audit: { ...operator, actor: other.login_id } }, current, role);
    const { deps, changed } = competing.during((rows) => rows.some((row) => row.id === target.id && "password_hash" in row), otherChange);
    const row = { line: 2, loginId: current.login_id, fullName: current.full_name, partnerNumber: current.partner_number, role: imported, email: current.otp_email, passwordHash: current.password_hash };
    const report = await storeImportedUsers(deps, [row], { update: true, actor: operator });
    expect(changed()).toBe(true);
    return report;
  }
  const roleEvents = async (target: User) =>
    (await queryAudit(competing.t.deps[0]!.db, { subject: target.login_id, event: "role.changed" })).map((e) => ({ actor: e.actor, detail: e.detail })).reverse();

  it("the import's role.changed names the role it replaced, not the one its batch read", async () => {
    const [other, target] = [await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!)];
    expect(await importWhileChanged(target, other, "admin", "support")).toMatchObject({ updated: 1, unchanged: 0, refused: [] });
    expect((await findUserById(competing.t.deps[0]!.db, target.id))!.role).toBe("support");
    expect(await roleEvents(target)).toEqual([
      { actor: other.login_id, detail: { from: "user", to: "admin" } },
      { actor: "operator:test", detail: { from: "admin", to: "support", source: "import" } },
    ]);
  });

  it("a role the other change already gave is no change for the import, and written to the audit trail once", async () => {
    const [other, target] = [await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!)];
    expect(await importWhileChanged(target, other, "support", "support")).toMatchObject({ updated: 0, unchanged: 1, refused: [] });
    expect(await roleEvents(target)).toEqual([{ actor: other.login_id, detail: { from: "user", to: "support" } }]);
    expect(await queryAudit(competing.t.deps[0]!.db, { subject: target.login_id, event: "user.updated" })).toEqual([]);
  });
});
