import { describe, expect, it } from "vitest";
import { disableInForce, disableUser, enableUser, keepDisabled } from "../../src/account/disable.ts";
import type { Acting } from "../../src/support/acting.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const operator: Acting = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const MINUTE = 60_000;

/**
 * What the console's page after a disable says the disable in force ended (disableInForce): the disable's
 * own event, or "kept" when a person has since kept disabled one a sync disabled, whatever the host
 * clock said when each was written (a clock set back between them), and never a keep from an earlier
 * disable spell for a later plain disable.
 */
describe("disableInForce: the disable in force, with a host clock set back (unit tier)", () => {
  const unit = useUnitDeps();
  const inForce = async (id: string) => disableInForce(unit.deps.db, (await findUserById(unit.deps.db, id))!);

  it("a sync's disable kept by a person with the clock behind the sync's stamp: kept, not the sync's counts", async () => {
    const user = await addUser(unit.deps);
    const at = unit.clock.now();
    expect((await disableUser(unit.deps, operator, user.id, { bySync: true })).kind).toBe("disabled");
    expect(await inForce(user.id)).toEqual({ sessionsEnded: 0, codesVoided: 0 });
    unit.clock.set(at - 5 * MINUTE);
    expect((await keepDisabled(unit.deps, operator, user.id)).kind).toBe("unchanged");
    expect(await inForce(user.id)).toEqual({ kept: true });
    unit.clock.set(at + 60 * MINUTE);
  });

  it("a sync's disable kept with the clock right: kept", async () => {
    const user = await addUser(unit.deps);
    expect((await disableUser(unit.deps, operator, user.id, { bySync: true })).kind).toBe("disabled");
    unit.clock.advance(MINUTE);
    await keepDisabled(unit.deps, operator, user.id);
    expect(await inForce(user.id)).toEqual({ kept: true });
  });

  it("a keep of an earlier disable spell never labels a later plain disable, the clock set back behind the keep", async () => {
    const user = await addUser(unit.deps);
    const at = unit.clock.now();
    await disableUser(unit.deps, operator, user.id, { bySync: true });
    unit.clock.set(at + 10 * MINUTE);
    await keepDisabled(unit.deps, operator, user.id);
    unit.clock.set(at + 20 * MINUTE);
    expect((await enableUser(unit.deps, operator, user.id)).kind).toBe("enabled");
    // Set back between the sync's disable and the keep, then a person's plain disable.
    unit.clock.set(at + 5 * MINUTE);
    expect((await disableUser(unit.deps, operator, user.id)).kind).toBe("disabled");
    expect(await inForce(user.id)).toEqual({ sessionsEnded: 0, codesVoided: 0 });
    // And a later sync's disable, not kept, says its own counts too.
    unit.clock.set(at + 30 * MINUTE);
    await enableUser(unit.deps, operator, user.id);
    unit.clock.set(at + 6 * MINUTE);
    await disableUser(unit.deps, operator, user.id, { bySync: true });
    expect(await inForce(user.id)).toEqual({ sessionsEnded: 0, codesVoided: 0 });
    unit.clock.set(at + 60 * MINUTE);
  });
});
