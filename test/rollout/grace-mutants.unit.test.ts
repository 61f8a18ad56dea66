import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { useGrace } from "../../src/rollout/grace.ts";
import { createSession } from "../../src/session/sessions.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { createUnitDeps } from "../support/unit-app.ts";

/**
 * "Later" (src/rollout/grace.ts, useGrace), the cases runs C11–C12 found no test asking: none at all with
 * FAMOS_2FA_GRACE_SIGNINS=0, none for a user who must always use two factors (a confirmed OTP email, a
 * support role), the "Later"s left in the audit line, and a fault of the store thrown, not answered as
 * "none left" (which would tell the user she has used them all).
 */
const ctx = { ip: "198.51.100.7", userAgent: "unit" };

async function later(env: Record<string, string>, input: Parameters<typeof addUser>[1], then?: (deps: Awaited<ReturnType<typeof createUnitDeps>>["deps"], user: User) => Promise<void>) {
  const unit = await createUnitDeps({ env });
  try {
    const user = await addUser(unit.deps, input);
    const { session } = await createSession(unit.deps.db, unit.deps.random, unit.clock.now(), unit.deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx });
    const answer = await useGrace(unit.deps, user, session, ctx);
    const used = await unit.deps.db.selectFrom("rollout_users").select("grace_used").where("user_id", "=", user.id).executeTakeFirst();
    await then?.(unit.deps, user);
    return { answer, used: Number(used?.grace_used ?? 0) };
  } finally {
    await unit.close();
  }
}

describe("useGrace: who has no 'Later' (unit tier)", () => {
  it("FAMOS_2FA_GRACE_SIGNINS=0: none, and nothing counted", async () => {
    expect(await later({ FAMOS_2FA_GRACE_SIGNINS: "0" }, { email: null })).toEqual({ answer: { kind: "none-left" }, used: 0 });
  });

  it("a user who must always use two factors (a support role, a confirmed OTP email): none, and nothing counted", async () => {
    expect(await later({ FAMOS_2FA_GRACE_SIGNINS: "3" }, { email: null, role: "support" })).toEqual({ answer: { kind: "none-left" }, used: 0 });
    expect(await later({ FAMOS_2FA_GRACE_SIGNINS: "3" }, { email: "jane@dealer.test" })).toEqual({ answer: { kind: "none-left" }, used: 0 });
  });

  it("audits the 'Later' used with the number left", async () => {
    const result = await later({ FAMOS_2FA_GRACE_SIGNINS: "3" }, { email: null }, async (deps, user) => {
      const [event] = await queryAudit(deps.db, { subject: user.login_id, event: "enrolment.deferred" });
      expect(event?.detail).toEqual({ left: 2 });
    });
    expect(result).toMatchObject({ answer: { kind: "deferred", left: 2 }, used: 1 });
  });

  it("a store that fails throws: never answered 'none left'", async () => {
    const unit = await createUnitDeps({ env: { FAMOS_2FA_GRACE_SIGNINS: "3" } });
    const user = await addUser(unit.deps, { email: null });
    const { session } = await createSession(unit.deps.db, unit.deps.random, unit.clock.now(), unit.deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx });
    await unit.close();
    await expect(useGrace(unit.deps, user, session, ctx)).rejects.toThrow();
  });
});
