import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import type { FixedClock } from "../../src/platform/clock.ts";
import { useGrace } from "../../src/rollout/grace.ts";
import { createSession, endSession } from "../../src/session/sessions.ts";
import { addUser } from "../support/app.ts";
import { createUnitDeps } from "../support/unit-app.ts";

/**
 * "Later" on "User profile" (FAMOS_2FA_GRACE_SIGNINS): a click whose session ended meanwhile (the owner
 * confirmed her address in another tab, which ends the account's sessions still at "User profile";
 * support reset or disabled the account) opens nothing, and uses none of the user's "Later"s.
 * Red team 2026-12-07: the count was committed before the session was found ended.
 */
describe("useGrace (unit tier)", () => {
  let deps: Deps;
  let clock: FixedClock;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ deps, clock, close } = await createUnitDeps({ env: { FAMOS_2FA_GRACE_SIGNINS: "3" } }));
  });
  afterAll(async () => close());

  const ctx = { ip: "198.51.100.7", userAgent: "unit" };
  const used = async (userId: string) => Number((await deps.db.selectFrom("rollout_users").select("grace_used").where("user_id", "=", userId).executeTakeFirst())?.grace_used ?? 0);

  it("a live session at 'User profile' uses one 'Later' and moves on", async () => {
    const user = await addUser(deps, { email: null });
    const { session } = await createSession(deps.db, deps.random, clock.now(), deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx });
    expect(await useGrace(deps, user, session, ctx)).toMatchObject({ kind: "deferred", left: 2 });
    expect(await used(user.id)).toBe(1);
  });

  it("a session ended meanwhile: signed out, nothing opened, and the 'Later' is not used up", async () => {
    const user = await addUser(deps, { email: null });
    const { session } = await createSession(deps.db, deps.random, clock.now(), deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx });
    await endSession(deps.db, session.id, clock.now(), "enrolled");
    expect(await useGrace(deps, user, session, ctx)).toEqual({ kind: "signed-out" });
    expect(await used(user.id)).toBe(0);
  });

  // Red team 2026-12-07 (follow-up): "Later" was decided on the account as the request read it, before
  // its transaction took the user's row. A change committed in between (a support role given, or a
  // passkey or app set up in another browser: alwaysTwoFactor) still let the click open the portal with
  // the password alone and use a "Later"; now it is decided on the row as read in the transaction.
  it.each([
    ["given the support role", { role: "support" as const }],
    ["given a strong second factor in another browser", { strong_factor_at: 1 }],
  ])("an account %s after the request read it: no 'Later', nothing opened, none used", async (_name, change) => {
    const user = await addUser(deps, { email: null });
    const { session } = await createSession(deps.db, deps.random, clock.now(), deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx });
    await deps.db.updateTable("users").set(change).where("id", "=", user.id).execute();
    expect(await useGrace(deps, user, session, ctx)).toEqual({ kind: "none-left" });
    expect(await used(user.id)).toBe(0);
    const row = await deps.db.selectFrom("sessions").select(["stage", "token_hash"]).where("id", "=", session.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ stage: "enrol", token_hash: session.token_hash });
  });

  // Red team 2026-12-07: the loser answered "none-left" (409 "There are no more 'Later' choices")
  // beside an offer still saying "2 of 3 left"; it is "moved" (the route sends it on to "/").
  it("a double click: the first moves the session on; the second, with the token it replaced, uses no second 'Later' and says the session moved, not that none are left", async () => {
    const user = await addUser(deps, { email: null });
    const { session } = await createSession(deps.db, deps.random, clock.now(), deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx });
    expect(await useGrace(deps, user, session, ctx)).toMatchObject({ kind: "deferred", left: 2 });
    expect(await useGrace(deps, user, session, ctx)).toEqual({ kind: "moved" });
    expect(await used(user.id)).toBe(1);
  });

  it("a double click on the last 'Later': the loser says the session moved, not that none are left", async () => {
    const user = await addUser(deps, { email: null });
    const open = async () => (await createSession(deps.db, deps.random, clock.now(), deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx })).session;
    for (const left of [2, 1]) expect(await useGrace(deps, user, await open(), ctx)).toMatchObject({ kind: "deferred", left });
    const session = await open();
    expect(await useGrace(deps, user, session, ctx)).toMatchObject({ kind: "deferred", left: 0 });
    expect(await useGrace(deps, user, session, ctx)).toEqual({ kind: "moved" });
    expect(await useGrace(deps, user, await open(), ctx)).toEqual({ kind: "none-left" });
    expect(await used(user.id)).toBe(3);
  });

  it("none left, found once the session was moved on: the move is rolled back too, the session at 'User profile' with its token", async () => {
    const user = await addUser(deps, { email: null });
    await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: null, grace_used: 3, announced_at: null }).execute();
    const { session } = await createSession(deps.db, deps.random, clock.now(), deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ...ctx });
    expect(await useGrace(deps, user, session, ctx)).toEqual({ kind: "none-left" });
    const row = await deps.db.selectFrom("sessions").select(["token_hash", "stage", "ended_at"]).where("id", "=", session.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ token_hash: session.token_hash, stage: "enrol", ended_at: null });
    expect(await used(user.id)).toBe(3);
  });
});
