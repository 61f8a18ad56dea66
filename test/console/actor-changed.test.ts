import { describe, expect, it } from "vitest";
import { createAccount } from "../../src/account/create.ts";
import { disableUser } from "../../src/account/disable.ts";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { verifyPassword } from "../../src/password/hash.ts";
import type { Acting } from "../../src/support/acting.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById, findUserByLogin, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

const NO_ROLE = { kind: "forbidden", reason: "no-role", message: "Your role does not give access to the support console." };

/**
 * A support action that hashes a password (a temporary password, a new account's first one) spends
 * tens of milliseconds of argon2id between the request, whose session says who acts and with which
 * role, and its transaction. An administrator who demotes or disables that support person in the
 * meantime has taken the right away: the action must not happen, as it would not a moment later.
 * Each test commits the change, on a second connection, once the action has made its first read.
 */
describe.each(DIALECTS)("the acting support person changed while the action hashes on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "actor_changed");

  const actingAs = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.50", userAgent: "actor-changed-test" } });
  const duringFirstRead = (change: () => Promise<unknown>) => competing.during(() => true, change);
  const demote = (admin: User, person: User) => async () => changeRole(competing.t.deps[1]!, actingAs(admin), (await findUserById(competing.t.deps[1]!.db, person.id))!, "user");
  const disable = (admin: User, person: User) => () => disableUser(competing.t.deps[1]!, actingAs(admin), person.id);

  for (const [what, changeOf] of [["demoted to user", demote], ["disabled", disable]] as const) {
    it(`a support person ${what} while a temporary password is hashed sets none`, async () => {
      const [admin, person, target] = [await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!, { role: "support" }), await addUser(competing.t.deps[0]!)];
      const { deps, changed } = duringFirstRead(changeOf(admin, person));
      const outcome = await setTemporaryPassword(deps, actingAs(person), target.id, "a brand new temporary passphrase", "INC-1");
      expect(changed()).toBe(true);
      expect(outcome).toEqual(NO_ROLE);
      const now = (await findUserById(competing.t.deps[0]!.db, target.id))!;
      expect((await verifyPassword(now.password_hash, target.password)).ok).toBe(true);
      expect(now.password_temporary_until).toBeNull();
    });

    it(`a support person ${what} while a new account's first password is hashed creates none`, async () => {
      const [admin, person] = [await addUser(competing.t.deps[0]!, { role: "admin" }), await addUser(competing.t.deps[0]!, { role: "support" })];
      const { deps, changed } = duringFirstRead(changeOf(admin, person));
      const loginId = `made.by.${person.login_id}`;
      const outcome = await createAccount(deps, actingAs(person), { loginId, fullName: "New Starter", partnerNumber: "01234", role: "user", email: "" });
      expect(changed()).toBe(true);
      expect(outcome).toEqual(NO_ROLE);
      expect(await findUserByLogin(competing.t.deps[0]!.db, loginId)).toBeUndefined();
    });
  }

  it("a change to the support person that leaves their role (a new name) does not stop the action", async () => {
    const [person, target] = [await addUser(competing.t.deps[0]!, { role: "support" }), await addUser(competing.t.deps[0]!)];
    const rename = () => competing.t.deps[1]!.db.updateTable("users").set({ full_name: "Renamed Person" }).where("id", "=", person.id).execute();
    const { deps, changed } = duringFirstRead(rename);
    const outcome = await setTemporaryPassword(deps, actingAs(person), target.id, "a brand new temporary passphrase", "INC-2");
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("set");
  });
});
