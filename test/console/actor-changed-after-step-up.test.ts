import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import type { Acting } from "../../src/support/acting.ts";
import { unlockAddressBy } from "../../src/support/address-locks.ts";
import { removeSecondFactors } from "../../src/support/remove-factors.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { changeRole } from "../../src/support/roles.ts";
import { unlockAccount } from "../../src/support/unlock.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";

const NO_ROLE = { kind: "forbidden", reason: "no-role", message: "Your role does not give access to the support console." };

/**
 * The console's step-up (web/console-guard.ts) checks the typed password with argon2id, tens of
 * milliseconds after the request's session said who acts and with which role, and before the action
 * runs: an administrator who demotes or disables that support person meanwhile has taken the right
 * away, as actor-changed.test says of the actions that hash a password themselves. The OTP email reset,
 * "Remove second factors", "Unlock" and an address's unlock read the acting person again (actingNow) as they write, so the
 * role the request began with (the Acting below, read before the change) acts no more.
 */
describe("a support person demoted or disabled after the request began (its step-up password being checked)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const actingAs = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.51", userAgent: "actor-changed-after-step-up" } });
  const changes = {
    "demoted to user": async (admin: User, person: User) => changeRole(t.deps, actingAs(admin), (await findUserById(t.deps.db, person.id))!, "user"),
    disabled: async (admin: User, person: User) => disableUser(t.deps, actingAs(admin), person.id),
  };

  for (const [what, change] of Object.entries(changes)) {
    it(`${what}: resets no OTP email, removes no second factors, unlocks neither an account nor an address`, async () => {
      const [admin, person, target] = [await addUser(t.deps, { role: "admin" }), await addUser(t.deps, { role: "support" }), await addUser(t.deps)];
      const stale = actingAs(person);
      expect((await change(admin, person)).kind).not.toBe("forbidden");

      const identity = { name: target.full_name, loginId: target.login_id, partnerNumber: target.partner_number, ticket: "INC-77" };
      expect(await resetOtpEmail(t.deps, stale, target.id, identity)).toEqual({ ok: false, ...NO_ROLE });
      expect((await findUserById(t.deps.db, target.id))!.otp_email).toBe(target.otp_email);
      expect(await removeSecondFactors(t.deps, stale, target.id, "INC-77")).toEqual(NO_ROLE);
      expect(await unlockAccount(t.deps, stale, target)).toEqual(NO_ROLE);
      expect(await unlockAddressBy(t.deps, stale, "192.0.2.99")).toEqual(NO_ROLE);
      const events = await t.deps.db.selectFrom("audit").select("event").where("actor", "=", person.login_id).execute();
      expect(events.map((e) => e.event)).toEqual([]);
    });
  }

  it("a support person still support acts (the control)", async () => {
    const [person, target] = [await addUser(t.deps, { role: "support" }), await addUser(t.deps)];
    expect((await unlockAccount(t.deps, actingAs(person), target)).kind).toBe("unlocked");
    expect((await unlockAddressBy(t.deps, actingAs(person), "192.0.2.99")).kind).toBe("unlocked");
    expect((await removeSecondFactors(t.deps, actingAs(person), target.id, "INC-78")).kind).toBe("removed");
    const identity = { name: target.full_name, loginId: target.login_id, partnerNumber: target.partner_number, ticket: "INC-78" };
    expect((await resetOtpEmail(t.deps, actingAs(person), target.id, identity)).kind).toBe("reset");
  });
});
