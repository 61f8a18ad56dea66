import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { passwordStep, type Replaced } from "../../src/signin/password-step.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";

const HOUR = 3_600_000;
const TEN_MINUTES = 600_000;
const DAY = 24 * HOUR;
const ACTOR = { actor: "admin", ip: null, userAgent: null };
const ctx = { ip: "192.0.2.8", userAgent: "lock-order" } as never;
const SIGN_INS = 6;
const CHANGES = 3;
const ROUNDS = 4;

/**
 * The lock order of the rollout on PostgreSQL, under real concurrency (no sleeps): a password-only
 * sign-in takes its user's row, then holds its waves FOR SHARE (heldWaveStart) and only then ends the
 * browser's previous session and makes the new one; a wave change holds the same waves FOR UPDATE
 * (holdWaves) and only then cuts the password-only sessions (endPasswordOnlyBeforeStart). Here 6
 * sign-ins, each replacing the user's live password-only session, run at once with 3 changes that each
 * bring the wave forward (so a cut reaches those very sessions), 4 rounds; the sign-ins ask for the
 * waves while a change holds them (lined up, below: their password hashes would otherwise put them
 * after the changes). Asserted: no deadlock (40P01) or serialization failure (40001), every sign-in
 * served, one live session a user, none ending after the start in force.
 *
 * What it catches: a sign-in that takes a session's row before the waves (its old session ended
 * first: one line moved in password-step.ts) deadlocks here, 3 of the 6 sign-ins of a round. What it
 * does not: a sign-in that reads the waves without FOR SHARE commits before the change's cut reads the
 * sessions often enough to stay green (a change held open across the sign-in's read would show it).
 */
describe("sign-ins and wave changes at once on PostgreSQL", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: "postgres" });
  });
  afterAll(async () => t?.close());

  const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);

  interface LineUp {
    arrive(): Promise<void>;
    all: Promise<void>;
  }
  /** Resolves `all` once `n` have arrived. */
  function lineUp(n: number): LineUp {
    let release = () => {};
    const all = new Promise<void>((resolve) => (release = resolve));
    let arrived = 0;
    return {
      all,
      arrive: () => {
        if (++arrived === n) release();
        return all;
      },
    };
  }
  interface AroundWaveRead {
    before(): Promise<void>;
    after(): void;
  }
  /** `builder` (and every builder made from it) whose execute runs between `around`'s steps. */
  function waitingBuilder<T extends object>(builder: T, around: AroundWaveRead): T {
    return new Proxy(builder, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (prop === "execute") {
          return async (...args: unknown[]) => {
            await around.before();
            const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            around.after();
            return result;
          };
        }
        return (...args: unknown[]) => {
          const made = (value as (...a: unknown[]) => unknown).apply(target, args);
          return typeof made === "object" && made !== null && "execute" in made ? waitingBuilder(made, around) : made;
        };
      },
    });
  }
  /** deps whose transactions' first read of the waves (holdWaves) runs between `around`'s steps. */
  function gated(around: AroundWaveRead): Deps {
    const inTransaction = (tx: object) => {
      let waited = false;
      return new Proxy(tx, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop === "selectFrom") {
            return (table: string, ...rest: unknown[]) => {
              const query = (value as (...a: unknown[]) => object).call(target, table, ...rest);
              if (table !== "rollout_plan" || waited) return query;
              waited = true;
              return waitingBuilder(query, around);
            };
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    };
    const db = new Proxy(t.deps.db, {
      get(target, prop) {
        if (prop === "transaction") {
          return () => {
            const builder = target.transaction();
            return { execute: (work: (tx: object) => Promise<unknown>) => builder.execute((tx) => work(inTransaction(tx))) };
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return { ...t.deps, db } as Deps;
  }

  it("take the waves before the sessions: no deadlock or serialization failure, no session outliving the wave", async () => {
    const now = t.clock.now();
    const partner = "lockorder1";
    // Within a session's longest life (FAMOS_SESSION_MAX), so a session ends at its wave's start.
    const base = Math.floor((now + 4 * HOUR) / HOUR) * HOUR;
    await setWaveStart(t.deps.db, partner, base, now, "test");
    await setWaveStart(t.deps.db, null, base + DAY, now, "test");
    const users = await Promise.all(Array.from({ length: SIGN_INS }, () => addUser(t.deps, { email: null, partnerNumber: partner })));
    const live = new Map<string, Replaced>();
    for (let round = 0; round < ROUNDS; round++) {
      // Each change brings the wave forward, in an order that differs from round to round.
      const starts = [1, 2, 3].map((k) => base - (round * CHANGES + ((k + round) % CHANGES) + 1) * TEN_MINUTES);
      // The password hashes take far longer than a change, so the sign-ins are lined up where they
      // hold the waves (heldWaveStart: password settled, user's row taken), the changes start then, and
      // the sign-ins ask for the waves once a change holds them: every change meets sign-ins waiting.
      const gate = lineUp(SIGN_INS);
      let held = () => {};
      const changeHolds = new Promise<void>((resolve) => (held = resolve));
      const signInDeps = gated({ before: async () => (await gate.arrive(), await changeHolds), after: () => {} });
      const changeDeps = gated({ before: () => Promise.resolve(), after: () => held() });
      const signIns = users.map((user) =>
        passwordStep(signInDeps, { loginId: user.login_id, password: user.password, replaces: live.get(user.login_id) ?? null }, ctx),
      );
      const changes = starts.map(async (start) => (await gate.all, changeWave(changeDeps, { user: null, audit: ACTOR }, { partner, from: local(start), timeZone: "UTC" })));
      const settled = await Promise.allSettled([...signIns, ...changes]);
      const errors = settled.flatMap((s) => (s.status === "rejected" ? [`${(s.reason as { code?: string }).code ?? ""} ${String(s.reason)}`] : []));
      expect({ round, errors }).toEqual({ round, errors: [] });
      const outcomes = settled.slice(0, SIGN_INS).map((s) => (s as PromiseFulfilledResult<Awaited<(typeof signIns)[number]>>).value);
      expect(outcomes.map((o) => o.kind)).toEqual(Array(SIGN_INS).fill("portal"));
      expect(settled.slice(SIGN_INS).map((s) => (s as PromiseFulfilledResult<{ kind: string }>).value.kind)).toEqual(Array(CHANGES).fill("set"));
      outcomes.forEach((o, i) => {
        if (o.kind === "portal") live.set(users[i]!.login_id, { sessionId: o.session.id, loginId: users[i]!.login_id });
      });

      // The start in force now is the one of this round's changes that committed last.
      const plan = await t.deps.db.selectFrom("rollout_plan").select("starts_at").where("partner_number", "=", partner).executeTakeFirstOrThrow();
      const inForce = Number(plan.starts_at);
      expect(starts).toContain(inForce);
      const sessions = await t.deps.db
        .selectFrom("sessions")
        .select(["id", "user_id", "expires_at"])
        .where("user_id", "in", users.map((u) => u.id))
        .where("ended_at", "is", null)
        .execute();
      // One live session a user (the one it replaced ended with it), none ending after the start in force.
      expect(sessions.map((s) => s.id).sort()).toEqual([...live.values()].map((r) => r.sessionId).sort());
      expect(sessions.filter((s) => Number(s.expires_at) > inForce).map((s) => ({ round, expiresAt: Number(s.expires_at), inForce }))).toEqual([]);
    }
    const planned = await t.deps.db.selectFrom("audit").select("id").where("event", "=", "rollout.planned").execute();
    expect(planned).toHaveLength(ROUNDS * CHANGES);
  }, 60_000);
});
