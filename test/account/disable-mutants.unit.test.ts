import { describe, expect, it } from "vitest";
import { queryAudit, recordAudit } from "../../src/audit/audit.ts";
import { disableInForce, disableUser, keepDisabled, syncDisabled } from "../../src/account/disable.ts";
import type { Acting } from "../../src/support/acting.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const operator: Acting = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/**
 * Keep disabled and the disable in force (src/account/disable.ts: syncDisabled, keepDisabled,
 * disableInForce), the cases runs C11–C12 found no test asking: the button on an account no sync
 * disabled, an enabled account's "no disable", a keep in the disable's own millisecond, another event of
 * the person's between them, and a sync's disable whose mark is gone with no keep (from before migration 028).
 */
describe("Keep disabled and disableInForce (unit tier)", () => {
  const unit = useUnitDeps();
  const inForce = async (id: string) => disableInForce(unit.deps.db, (await findUserById(unit.deps.db, id))!);
  const another = (subject: string) => recordAudit(unit.deps.db, unit.clock.now(), { ...operator.audit, event: "unlock", subject });

  it("syncDisabled: disabled, and by a sync; nothing else", () => {
    expect(syncDisabled({ disabled_at: 5, sync_disabled_partner: "01234" })).toBe(true);
    expect(syncDisabled({ disabled_at: 5, sync_disabled_partner: null })).toBe(false);
    expect(syncDisabled({ disabled_at: null, sync_disabled_partner: "01234" })).toBe(false);
    expect(syncDisabled({ disabled_at: null, sync_disabled_partner: null })).toBe(false);
  });

  it("Keep disabled on an enabled account, or one a person disabled, changes nothing and audits nothing", async () => {
    const enabled = await addUser(unit.deps);
    expect(await keepDisabled(unit.deps, operator, enabled.id)).toMatchObject({ kind: "unchanged" });
    expect((await findUserById(unit.deps.db, enabled.id))?.disabled_at).toBeNull();
    const byPerson = await addUser(unit.deps);
    await disableUser(unit.deps, operator, byPerson.id);
    expect(await keepDisabled(unit.deps, operator, byPerson.id)).toEqual({ kind: "unchanged", user: expect.objectContaining({ id: byPerson.id }) });
    for (const user of [enabled, byPerson]) {
      expect((await queryAudit(unit.deps.db, { subject: user.login_id, event: "user.disabled" })).filter((event) => event.detail.kept === true)).toEqual([]);
    }
  });

  it("an enabled account has no disable in force (undefined, not a disable without counts)", async () => {
    const user = await addUser(unit.deps);
    expect(await inForce(user.id)).toBeUndefined();
  });

  it("a keep in the sync's own millisecond: kept", async () => {
    const user = await addUser(unit.deps);
    await disableUser(unit.deps, operator, user.id, { bySync: true });
    await keepDisabled(unit.deps, operator, user.id);
    expect(await inForce(user.id)).toEqual({ kept: true });
  });

  it("the disable's own event, and its keep, whatever other events of the person were written in the same millisecond or between", async () => {
    const plain = await addUser(unit.deps);
    await disableUser(unit.deps, operator, plain.id);
    await another(plain.login_id);
    expect(await inForce(plain.id)).toEqual({ sessionsEnded: 0, codesVoided: 0 });
    const kept = await addUser(unit.deps);
    await disableUser(unit.deps, operator, kept.id, { bySync: true });
    unit.clock.advance(1_000);
    await keepDisabled(unit.deps, operator, kept.id);
    await another(kept.login_id);
    expect(await inForce(kept.id)).toEqual({ kept: true });
  });

  it("a sync's disable whose mark is gone with no keep (written before migration 028): its own counts", async () => {
    const user = await addUser(unit.deps);
    await disableUser(unit.deps, operator, user.id, { bySync: true });
    await unit.deps.db.updateTable("users").set({ sync_disabled_partner: null }).where("id", "=", user.id).execute();
    unit.clock.advance(1_000);
    await another(user.login_id);
    expect(await inForce(user.id)).toEqual({ sessionsEnded: 0, codesVoided: 0 });
  });
});
