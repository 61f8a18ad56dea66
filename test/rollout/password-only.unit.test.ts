import { afterEach, describe, expect, it } from "vitest";
import { endPasswordOnlyBeforeStart, endPasswordOnlyForMove } from "../../src/rollout/password-only.ts";
import { readPlan, removeWave, setWaveStart, type RolloutPlan } from "../../src/rollout/plan.ts";
import type { SessionsTable } from "../../src/store/schema.ts";
import { createUser } from "../../src/users/users.ts";
import { useUnitStore } from "../support/unit-store.ts";

const HOUR = 3_600_000;

/**
 * The cut of the password-only sessions (src/rollout/password-only.ts, cutPasswordOnly) at its edges, on
 * the store alone: after a wave change (endPasswordOnlyBeforeStart) and a partner move
 * (endPasswordOnlyForMove), which sessions end by the start now in force and which stay: a verified, an
 * ended, a mid-sign-in one, one ending earlier already, one made at or after the start that was in force
 * (a "Later"), another partner's. The integration tier (test/security/password-only-session-attacks,
 * partner-move-attacks) walks the same rule through the console, the import and a browser.
 */
describe("the cut of password-only sessions (unit tier)", () => {
  const unit = useUnitStore();
  const db = () => unit.db;
  const now = unit.now;
  // Each test its own plan and sessions: the store is the file's.
  afterEach(async () => {
    await db().deleteFrom("rollout_plan").execute();
    await db().updateTable("sessions").set({ ended_at: now(), end_reason: "test" }).where("ended_at", "is", null).execute();
  });

  async function user(partner: string): Promise<string> {
    const login = unit.fresh(`po-${partner}`);
    const made = await createUser(db(), unit.keys, unit.random, now(), { loginId: login, fullName: "Jane Smith", partnerNumber: partner, role: "user", passwordHash: "x", otpEmail: null });
    return made!.id;
  }

  /** A session of `userId` as it would stand: password-only, live, made an hour ago, ending in 11 hours, unless told otherwise. */
  async function session(userId: string, over: Partial<SessionsTable> = {}): Promise<string> {
    const id = unit.fresh("session");
    const t = now();
    await db()
      .insertInto("sessions")
      .values({ token_hash: id, id, user_id: userId, stage: "full", flow_id: null, created_at: t - HOUR, last_seen_at: t, expires_at: t + 11 * HOUR, verified_at: null, stepped_up_at: null, ip: "192.0.2.1", user_agent: "test", ended_at: null, end_reason: null, ...over })
      .execute();
    return id;
  }

  const endsAt = async (id: string) => Number((await db().selectFrom("sessions").select("expires_at").where("id", "=", id).executeTakeFirstOrThrow()).expires_at);
  const partner = () => unit.fresh("p");

  /** Sets the wave, returning the plan as it was before (what changeWave passes). */
  async function change(partnerNumber: string | null, startsAt: number | null): Promise<RolloutPlan> {
    const before = await readPlan(db());
    if (startsAt === null) await removeWave(db(), partnerNumber);
    else await setWaveStart(db(), partnerNumber, startsAt, now(), "test");
    return before;
  }

  it("a partner's start brought forward: its users' password-only sessions (full or password stage) end there, and no other", async () => {
    const [p, other] = [partner(), partner()];
    await setWaveStart(db(), p, now() + 5 * HOUR, now(), "test");
    await setWaveStart(db(), other, now() + 5 * HOUR, now(), "test");
    const [u, v] = [await user(p), await user(other)];
    const full = await session(u);
    const password = await session(u, { stage: "password" });
    const otp = await session(u, { stage: "otp" });
    const enrol = await session(u, { stage: "enrol" });
    const setup = await session(u, { stage: "factor-setup" });
    const verified = await session(u, { verified_at: now() - HOUR });
    const ended = await session(u, { ended_at: now() - 1, end_reason: "signed-out" });
    const earlier = await session(u, { expires_at: now() + HOUR });
    const atStart = await session(u, { expires_at: now() + 2 * HOUR });
    const others = await session(v);
    const before = await change(p, now() + 2 * HOUR);
    expect(await endPasswordOnlyBeforeStart(db(), p, now(), before)).toBe(2);
    expect(await endsAt(full)).toBe(now() + 2 * HOUR);
    expect(await endsAt(password)).toBe(now() + 2 * HOUR);
    for (const id of [otp, enrol, setup, verified, ended, others]) expect(await endsAt(id)).toBe(now() + 11 * HOUR);
    expect(await endsAt(earlier)).toBe(now() + HOUR);
    expect(await endsAt(atStart)).toBe(now() + 2 * HOUR);
  });

  it("cuts only sessions made before the start in force until the change: one made at it or after it (a Later) stays", async () => {
    const p = partner();
    const oldStart = now() - HOUR;
    await setWaveStart(db(), p, oldStart, now(), "test");
    const u = await user(p);
    const beforeOld = await session(u, { created_at: oldStart - 1 });
    const atOld = await session(u, { created_at: oldStart });
    const afterOld = await session(u, { created_at: oldStart + 1 });
    const before = await change(p, now() + 3 * HOUR);
    expect(await endPasswordOnlyBeforeStart(db(), p, now(), before)).toBe(1);
    expect(await endsAt(beforeOld)).toBe(now() + 3 * HOUR);
    expect(await endsAt(atOld)).toBe(now() + 11 * HOUR);
    expect(await endsAt(afterOld)).toBe(now() + 11 * HOUR);
  });

  it("a partner's start removed with no default left: its sessions end now; with no start before the change, none", async () => {
    const p = partner();
    await setWaveStart(db(), p, now() + 5 * HOUR, now(), "test");
    const u = await user(p);
    const s = await session(u);
    const before = await change(p, null);
    expect((await readPlan(db())).defaultStart).toBeNull();
    expect(await endPasswordOnlyBeforeStart(db(), p, now(), before)).toBe(1);
    expect(await endsAt(s)).toBe(now());

    const q = partner();
    const w = await user(q);
    const kept = await session(w);
    const none = await change(q, now() + HOUR);
    expect(await endPasswordOnlyBeforeStart(db(), q, now(), none)).toBe(0);
    expect(await endsAt(kept)).toBe(now() + 11 * HOUR);
  });

  it("the default start: the users of partners without a start of their own, not those with one", async () => {
    const [own, none] = [partner(), partner()];
    await setWaveStart(db(), own, now() + 5 * HOUR, now(), "test");
    await setWaveStart(db(), null, now() + 5 * HOUR, now(), "test");
    const [u, v] = [await user(own), await user(none)];
    const ownSession = await session(u);
    const defaultSession = await session(v);
    const before = await change(null, now() + 2 * HOUR);
    expect(await endPasswordOnlyBeforeStart(db(), null, now(), before)).toBe(1);
    expect(await endsAt(defaultSession)).toBe(now() + 2 * HOUR);
    expect(await endsAt(ownSession)).toBe(now() + 11 * HOUR);
    // The partner's own start follows the default when removed: its session ends at the default's.
    const again = await change(own, null);
    expect(await endPasswordOnlyBeforeStart(db(), own, now(), again)).toBe(1);
    expect(await endsAt(ownSession)).toBe(now() + 2 * HOUR);
  });

  it("a move: the user's sessions made before the old partner's start end at the new partner's start, or now without one", async () => {
    const [from, to] = [partner(), partner()];
    await setWaveStart(db(), from, now() + 5 * HOUR, now(), "test");
    await setWaveStart(db(), to, now() + 2 * HOUR, now(), "test");
    const [u, stays] = [await user(from), await user(from)];
    const moved = await session(u);
    const later = await session(u, { created_at: now() + 5 * HOUR });
    const notMoved = await session(stays);
    expect(await endPasswordOnlyForMove(db(), u, from, to, now())).toBe(1);
    expect(await endsAt(moved)).toBe(now() + 2 * HOUR);
    expect(await endsAt(later)).toBe(now() + 11 * HOUR);
    expect(await endsAt(notMoved)).toBe(now() + 11 * HOUR);

    const nowhere = partner();
    const w = await user(from);
    const cut = await session(w);
    expect(await endPasswordOnlyForMove(db(), w, from, nowhere, now())).toBe(1);
    expect(await endsAt(cut)).toBe(now());
  });

  it("a move from a partner with no start (no plan for it: two factors already) cuts nothing", async () => {
    const [from, to] = [partner(), partner()];
    await setWaveStart(db(), to, now() + 2 * HOUR, now(), "test");
    const u = await user(from);
    const s = await session(u);
    expect(await endPasswordOnlyForMove(db(), u, from, to, now())).toBe(0);
    expect(await endsAt(s)).toBe(now() + 11 * HOUR);
  });
});
