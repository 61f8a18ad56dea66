import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../store/dialects.ts";

const DAY = 86_400_000;
const ACTOR = { actor: "admin", ip: null, userAgent: null };
const ctx = { ip: "192.0.2.7", userAgent: "race" } as never;

/**
 * The wave decision of a sign-in was read just before the transaction that makes its session: a wave
 * moved to now (changeWave) and committed in that gap left the new session the old end, the old start
 * days away, on the password alone. The gap is made here, no sleeps: the wave changes the moment the
 * sign-in, having read the plan, opens its transaction.
 */
describe.each(DIALECTS)("a wave changed while a password-only sign-in is under way (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
  });
  afterAll(async () => t?.close());

  /** deps whose next transaction, once the sign-in has read the plan, first runs `between` to its end. */
  function withGap(between: () => Promise<unknown>): Deps {
    let armed = false;
    const db = new Proxy(t.deps.db, {
      get(target, prop) {
        if (prop === "selectFrom") {
          return (table: string, ...rest: unknown[]) => {
            if (table === "rollout_plan") armed = true;
            return (target.selectFrom as (...a: unknown[]) => unknown).call(target, table, ...rest);
          };
        }
        if (prop === "transaction" && armed) {
          armed = false;
          return () => ({ execute: async (work: never) => (await between(), target.transaction().execute(work)) });
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return { ...t.deps, db } as Deps;
  }

  it("the wave moved to now in the gap: no session on the password alone", async () => {
    const start = t.clock.now();
    const p = `race${dialect.slice(0, 2)}1`;
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    t.clock.set(start + 60_000);
    try {
      const moved = withGap(() => changeWave(t.deps, { user: null, audit: ACTOR }, { partner: p, from: "2026-11-28T14:00", timeZone: "UTC" }));
      const outcome = await passwordStep(moved, { loginId: user.login_id, password: user.password }, ctx);
      expect(outcome.kind).toBe("enrol");
      const sessions = await t.deps.db.selectFrom("sessions").select(["stage", "expires_at"]).where("user_id", "=", user.id).execute();
      expect(sessions.map((s) => s.stage)).toEqual(["enrol"]);
    } finally {
      t.clock.set(start);
    }
  });

  it("the wave brought forward (still ahead) in the gap: the session ends at the new start", async () => {
    const start = t.clock.now();
    const p = `race${dialect.slice(0, 2)}2`;
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const moved = withGap(() => changeWave(t.deps, { user: null, audit: ACTOR }, { partner: p, from: "2026-11-28T16:00", timeZone: "UTC" }));
    const outcome = await passwordStep(moved, { loginId: user.login_id, password: user.password }, ctx);
    expect(outcome.kind).toBe("portal");
    const [session] = await t.deps.db.selectFrom("sessions").select("expires_at").where("user_id", "=", user.id).execute();
    expect(Number(session!.expires_at)).toBe(Date.parse("2026-11-28T16:00:00Z"));
  });
});
