import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { importUsersCsv } from "../../src/cli/import-file.ts";
import type { Acting } from "../../src/support/acting.ts";
import { disableUser } from "../../src/account/disable.ts";
import { eraseUser } from "../../src/account/erase.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { bcryptHash, HEADER } from "../cli/import-fixtures.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

const actingAs = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.70", userAgent: "last-admin-test" } });
const OPERATOR: Acting = { user: null, audit: { actor: "operator", ip: null, userAgent: null } };

/**
 * Two administrators demoting each other at the same moment, each from a session read before either
 * wrote: the one who goes second is no longer an administrator when their change is written, so it is
 * refused (SPEC "People": only administrators change roles), and an administrator stays. Run as real
 * parallel calls, on PostgreSQL on two instances (two pools), on SQLite on one.
 */
describe.each(DIALECTS)("two administrators demoting each other at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "demote_each");

  it("ten rounds: one demotion is written, the other refused, and one of the two is still an administrator", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (let round = 0; round < 10; round += 1) {
      const [first, second] = [await addUser(a, { role: "admin" }), await addUser(a, { role: "admin" })];
      const outcomes = await Promise.all([changeRole(a, actingAs(first), second, "user"), changeRole(b, actingAs(second), first, "support")]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(["changed", "forbidden"]);
      const roles = [(await findUserById(a.db, first.id))!.role, (await findUserById(a.db, second.id))!.role];
      expect(roles.filter((role) => role === "admin")).toHaveLength(1);
    }
  });
});

/**
 * The same race through the other ways an administrator takes another's access away: two disabling,
 * or erasing, each other at once. The acting person is read again in the writing transaction, the
 * rows taken as for a role change, so the second finds itself disabled (or gone) and acts no more.
 */
describe.each(DIALECTS)("two administrators disabling or erasing each other at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "disable_each");

  it("five rounds of each: one is written, the other refused, and one of the two is still an enabled administrator", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (const action of [disableUser, eraseUser]) {
      for (let round = 0; round < 5; round += 1) {
        const [first, second] = [await addUser(a, { role: "admin" }), await addUser(a, { role: "admin" })];
        const outcomes = await Promise.all([action(a, actingAs(first), second.id), action(b, actingAs(second), first.id)]);
        expect(outcomes.filter((o) => o.kind === "forbidden"), action.name).toHaveLength(1);
        const left = await a.db.selectFrom("users").select("id").where("id", "in", [first.id, second.id]).where("role", "=", "admin").where("disabled_at", "is", null).execute();
        expect(left, action.name).toHaveLength(1);
      }
    }
  });
});

/**
 * The operator at the command line (`famos user role`) may demote any administrator but the last one:
 * with none, nobody could manage roles from the console. Two runs at once, each demoting one of the
 * last two administrators, must not both pass the count; each database here holds only these two.
 */
describe.each(DIALECTS)("the last administrator on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "last_admin");

  it("two operators demoting the last two administrators at once: one is refused, one administrator stays", async () => {
    const [a, b] = await race.pair();
    const [first, second] = [await addUser(a, { role: "admin" }), await addUser(a, { role: "admin" })];
    const outcomes = await Promise.all([changeRole(a, OPERATOR, first, "user"), changeRole(b, OPERATOR, second, "user")]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["changed", "last-admin"]);
    const admins = await a.db.selectFrom("users").select("id").where("role", "=", "admin").execute();
    expect(admins).toHaveLength(1);
    // The one left cannot be demoted either, nor can a disabled administrator count as one.
    const [left] = admins;
    expect(await changeRole(a, OPERATOR, (await findUserById(a.db, left!.id))!, "support")).toEqual({ kind: "last-admin" });
    const disabled = await addUser(a, { role: "admin" });
    await a.db.updateTable("users").set({ disabled_at: race.now() }).where("id", "=", disabled.id).execute();
    expect(await changeRole(a, OPERATOR, (await findUserById(a.db, left!.id))!, "user")).toEqual({ kind: "last-admin" });
    // With a second enabled administrator, the first may go.
    const another = await addUser(a, { role: "admin" });
    expect(await changeRole(a, OPERATOR, (await findUserById(a.db, left!.id))!, "user")).toEqual({ kind: "changed", from: "admin", to: "user" });
    expect((await findUserById(a.db, another.id))!.role).toBe("admin");
  });

  it("two operators disabling, then erasing, the last two enabled administrators at once: one is refused each time, one stays", async () => {
    const [a, b] = await race.pair();
    const enabledAdmins = async () => (await a.db.selectFrom("users").select("id").where("role", "=", "admin").where("disabled_at", "is", null).execute()).map((u) => u.id);
    for (const action of [disableUser, eraseUser]) {
      await addUser(a, { role: "admin" });
      const pair = await enabledAdmins();
      expect(pair, action.name).toHaveLength(2);
      const outcomes = await Promise.all([action(a, OPERATOR, pair[0]!), action(b, OPERATOR, pair[1]!)]);
      expect(outcomes.map((o) => o.kind).sort(), action.name).toEqual([action === disableUser ? "disabled" : "erased", "last-admin"]);
      expect(await enabledAdmins(), action.name).toHaveLength(1);
    }
  });
});

/**
 * `famos user import --update` demoting an administrator through the role column, at the same instant
 * as the console's role form (changeRole) or another import demotes the other of the last two: the
 * import takes the rows of every enabled administrator first, in the order of their ids, as changeRole
 * does, so one counts after the other has written. Each round starts with only these two enabled.
 */
describe.each(DIALECTS)("an import and another demotion of the last two administrators at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "import_demote");
  const hash = bcryptHash("correct horse battery staple");
  const importDemoting = async (deps: Deps, user: User) => {
    const result = await importUsersCsv(deps, `${HEADER}\n${user.login_id},${user.full_name},${user.partner_number},user,,${hash}`, { update: true, actor: OPERATOR.audit });
    if (!result.ok) throw new Error(result.message);
    return result.updated === 1;
  };
  const others = {
    changeRole: async (deps: Deps, user: User) => (await changeRole(deps, OPERATOR, user, "user")).kind === "changed",
    import: importDemoting,
  };

  it("ten rounds with each (the console's changeRole, another import): exactly one demotion is written, one administrator stays", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    const enabledAdmins = async () => (await a.db.selectFrom("users").select("id").where("role", "=", "admin").where("disabled_at", "is", null).execute()).map((u) => u.id);
    for (const [name, other] of Object.entries(others)) {
      for (let round = 0; round < 10; round += 1) {
        await a.db.updateTable("users").set({ disabled_at: race.now() }).where("role", "=", "admin").where("disabled_at", "is", null).execute();
        const [first, second] = [await addUser(a, { role: "admin" }), await addUser(a, { role: "admin" })];
        const written = await Promise.all([importDemoting(a, first), other(b, second)]);
        expect(written.filter(Boolean), `${name}, round ${round}`).toHaveLength(1);
        expect(await enabledAdmins(), `${name}, round ${round}`).toHaveLength(1);
      }
    }
  });
});
