import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { announceRollout } from "../../src/rollout/announce.ts";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { createUser, type User } from "../../src/users/users.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

const ACTOR = { actor: "operator:test", ip: "cli", userAgent: "test" };
const operator = { user: null, audit: ACTOR };
const HASH = "$2b$10$abcdefghijklmnopqrstuuC9o7zZ9Qz1m9N0p0m0c3b8aQ8qUyy5y";

async function addPerson(deps: Deps, loginId: string, partner: string, options: { contact?: string; otp?: string; role?: User["role"] } = {}) {
  const user = (await createUser(deps.db, deps.keys, deps.random, deps.clock.now(), { loginId, fullName: `Person ${loginId}`, partnerNumber: partner, role: options.role ?? "user", passwordHash: HASH, otpEmail: options.otp ?? null }))!;
  if (options.contact) await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: options.contact, grace_used: 0, announced_at: null }).execute();
  return user;
}

/**
 * The announcement promises a change to come ("From <start>, signing in to FAMOS takes two steps", "you
 * can set it now … on the banner"): false for an account two factors already apply to (alwaysTwoFactor,
 * rollout/applies.ts) — one whose OTP email support reset (its next sign-in brings "User profile", as the
 * reset's mail said), or of a role that always signs in with two. They are not mailed nor chased as
 * without an address; the run's figures and a moved wave's "told again" count them out. Both dialects.
 */
describe.each(["sqlite", "postgres"] as const)("the announcement and accounts two factors already apply to (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_PUBLIC_URL: "https://famos.dealer.example" } });
  });
  afterAll(async () => t?.close());

  const announcedTo = async () => (await t.deps.db.selectFrom("outbox").select("recipient").where("kind", "=", "rollout.announcement").execute()).map((o) => o.recipient).sort();

  it("mails only those whose two factors are still to come, and a moved wave tells only them again", async () => {
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "8001", from: "2027-03-01T07:00" })).toMatchObject({ kind: "set" });
    await addPerson(t.deps, "ida8", "8001", { contact: "ida8@dealer.example" });
    const reset = await addPerson(t.deps, "rex8", "8001", { contact: "rex8@dealer.example", otp: "rex8@dealer.example" });
    const resetNoAddress = await addPerson(t.deps, "ray8", "8001", { otp: "ray8@dealer.example" });
    await addPerson(t.deps, "sam8", "8001", { contact: "sam8@dealer.example", role: "support" });
    // rex8 was announced (an earlier run), then support reset the OTP email he had set up early.
    await t.deps.db.updateTable("rollout_users").set({ announced_at: t.clock.now() }).where("user_id", "=", reset.id).execute();
    for (const user of [reset, resetNoAddress]) {
      const outcome = await resetOtpEmail(t.deps, operator, user.id, { name: user.full_name, loginId: user.login_id, partnerNumber: "8001", ticket: "INC-8" });
      expect(outcome.kind).toBe("reset");
    }

    const dry = await announceRollout(t.deps, { partner: "8001", dryRun: true, actor: ACTOR });
    expect(dry).toMatchObject({ mailed: 1, alreadyAnnounced: 0, enrolled: 0, alreadyTwoFactor: 3 });
    expect(dry.wouldMail.map((u) => u.loginId)).toEqual(["ida8"]);
    expect(dry.withoutAddress).toEqual([]);

    expect(await announceRollout(t.deps, { partner: "8001", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1, alreadyTwoFactor: 3 });
    expect(await announcedTo()).toEqual(["ida8@dealer.example"]);

    // Moved: ida8 is told the new start; rex8, announced before his reset, is not counted as to be told.
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "8001", from: "2027-03-08T07:00" })).toMatchObject({ kind: "set", toldAgain: 1 });
    expect(await announceRollout(t.deps, { partner: "8001", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1, alreadyTwoFactor: 3 });
    expect(await announcedTo()).toEqual(["ida8@dealer.example", "ida8@dealer.example"]);
  });
});
