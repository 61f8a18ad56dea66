import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FixedClock } from "../../src/platform/clock.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser } from "../support/app.ts";
import { createUnitDeps } from "../support/unit-app.ts";

/** A clock that moves a second on every reading: each step of a request sees its own moment. */
class TickingClock extends FixedClock {
  override now(): number {
    const time = super.now();
    this.advance(1000);
    return time;
  }
}

/**
 * Issue 17: a right password's writes share one transaction with the first code, but take the time the
 * password was found right, not the request's arrival: under load a sign-in waits for a hash, and that
 * wait must not come off the code's 15 minutes (nor count as the mail's delivery time).
 */
describe("a sign-in's first code (unit tier)", () => {
  let unit: Awaited<ReturnType<typeof createUnitDeps>>;
  beforeAll(async () => {
    unit = await createUnitDeps({ clock: new TickingClock() });
  });
  afterAll(async () => unit.close());

  it("is made, and its 15 minutes start, after the password was checked", async () => {
    const { deps } = unit;
    const user = await addUser(deps, { loginId: "ticking", email: "ticking@dealer.example" });
    const outcome = await passwordStep(deps, { loginId: "ticking", password: user.password }, { ip: "198.51.100.7", userAgent: "code-time-test" });
    if (outcome.kind !== "code") throw new Error(`expected the code step, got ${outcome.kind}`);
    const checked = await deps.db.selectFrom("audit").select("time").where("event", "=", "password.ok").where("subject", "=", "ticking").executeTakeFirstOrThrow();
    const code = await deps.db.selectFrom("codes").selectAll().where("flow_id", "=", outcome.session.flow_id!).executeTakeFirstOrThrow();
    expect(code.created_at).toBeGreaterThan(checked.time);
    expect(code.expires_at - code.created_at).toBe(15 * 60_000);
    expect(outcome.session.created_at).toBeGreaterThan(checked.time);
  });
});
