import { describe, expect, it } from "vitest";
import type { Stage } from "../../src/session/sessions.ts";
import { stageOnceVerified } from "../../src/strong-factors/policy.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";
import { addConfirmedApp } from "./helpers.ts";

/**
 * stageOnceVerified (src/strong-factors/policy.ts) on its own: the stage a confirmed second factor
 * leads to. Run Z13 found every change to its guard surviving the unit tier (strong-step.unit signs in
 * only support users who have an app, and role user never reaches the guard's second half), so a support
 * user without a strong factor could have gone to "full" with an emailed code alone.
 */
describe("stageOnceVerified (unit tier)", () => {
  const unit = useUnitDeps({ env: { FAMOS_STRONG_FACTOR_ROLES: "support" } });
  const OTHER_STAGES: Stage[] = ["enrol", "otp", "password", "factor-setup"];

  it("sends a user of FAMOS_STRONG_FACTOR_ROLES without a strong factor to factor-setup instead of full", async () => {
    const user = await addUser(unit.deps, { role: "support" });
    expect(await stageOnceVerified(unit.db, unit.deps.config, user, "full")).toBe("factor-setup");
  });

  it("lets such a user with an app reach full", async () => {
    const user = await addUser(unit.deps, { role: "support" });
    await addConfirmedApp(unit.deps, user.id);
    expect(await stageOnceVerified(unit.db, unit.deps.config, user, "full")).toBe("full");
  });

  it("leaves any other stage as it is, for those roles or not, and full as it is for a role that needs no strong factor", async () => {
    const support = await addUser(unit.deps, { role: "support" });
    const plain = await addUser(unit.deps, { role: "user" });
    for (const stage of OTHER_STAGES) {
      expect(await stageOnceVerified(unit.db, unit.deps.config, support, stage), `support ${stage}`).toBe(stage);
      expect(await stageOnceVerified(unit.db, unit.deps.config, plain, stage), `user ${stage}`).toBe(stage);
    }
    expect(await stageOnceVerified(unit.db, unit.deps.config, plain, "full")).toBe("full");
  });
});
