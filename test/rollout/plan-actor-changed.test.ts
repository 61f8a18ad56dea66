import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { readPlan } from "../../src/rollout/plan.ts";
import type { Acting } from "../../src/support/acting.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { DIALECTS } from "../store/dialects.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";

const REFUSED = { kind: "forbidden", reason: "admin-only", message: "Your role does not give access to this page." };

/**
 * The Rollout page's plan change (POST /support/rollout/plan and /plan/remove) passes the console's
 * step-up, an argon2id check of the typed password tens of milliseconds after the request's session said
 * the person is an administrator: one demoted or disabled meanwhile has lost the right, as
 * actor-changed-after-step-up.test says of the users' page. changeWave reads the acting person again in
 * its transaction (actingNow), so the role the request began with (the Acting below) changes no start.
 */
describe.each(DIALECTS)("a rollout plan change by an administrator demoted or disabled after the request began (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  const actingAs = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.61", userAgent: "plan-actor-changed" } });
  const planned = async (actor: string) => (await queryAudit(t.deps.db, { event: "rollout.planned" })).filter((e) => e.actor === actor);
  const changes = {
    "demoted to support": async (by: User, person: User) => changeRole(t.deps, actingAs(by), (await findUserById(t.deps.db, person.id))!, "support"),
    disabled: async (by: User, person: User) => disableUser(t.deps, actingAs(by), person.id),
  };

  for (const [what, change] of Object.entries(changes)) {
    it(`${what}: sets no start and removes none`, async () => {
      const [other, person] = [await addUser(t.deps, { role: "admin" }), await addUser(t.deps, { role: "admin" })];
      const partner = `77${what.length}`;
      expect((await changeWave(t.deps, actingAs(other), { partner, from: "2027-02-01T07:00" })).kind).toBe("set");
      const before = await readPlan(t.deps.db);
      const stale = actingAs(person);
      expect((await change(other, person)).kind).not.toBe("forbidden");

      expect(await changeWave(t.deps, stale, { partner, from: "2027-03-01T07:00" })).toEqual(REFUSED);
      expect(await changeWave(t.deps, stale, { partner: "7799", from: "2027-03-01T07:00" })).toEqual(REFUSED);
      expect(await changeWave(t.deps, stale, { partner, from: null })).toEqual(REFUSED);
      expect(await readPlan(t.deps.db)).toEqual(before);
      expect(await planned(person.login_id)).toEqual([]);
    });
  }

  it("an administrator still one changes it, and the operator at the command line (the controls)", async () => {
    const admin = await addUser(t.deps, { role: "admin" });
    expect((await changeWave(t.deps, actingAs(admin), { partner: "7801", from: "2027-02-01T07:00" })).kind).toBe("set");
    expect((await changeWave(t.deps, actingAs(admin), { partner: "7801", from: null })).kind).toBe("removed");
    expect(await planned(admin.login_id)).toHaveLength(2);
    const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };
    expect((await changeWave(t.deps, operator, { partner: "7802", from: "2027-02-01T07:00" })).kind).toBe("set");
  });
});
