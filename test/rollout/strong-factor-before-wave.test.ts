import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announceRollout } from "../../src/rollout/announce.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { removeSecondFactors } from "../../src/support/remove-factors.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";
import { appCode, recoveryCodesFrom, secretFrom } from "../strong-factors/helpers.ts";

const DAY = 86_400_000;
const PORTAL = 'action="/logout"';
const ACTOR = { actor: "operator:test", ip: "cli", userAgent: "test" };

/**
 * An authenticator app (or a passkey) set up before the user's wave, from the portal the password
 * alone opened: before, it was ignored until the wave, and whoever had the password still signed in
 * with it alone. A confirmed strong factor counts as a confirmed OTP email does (alwaysTwoFactor).
 */
describe.each(DIALECTS)("a strong factor set up before the wave (%s)", (dialect) => {
  let t: TestApp;
  let partner = 0;
  const newPartner = () => `sf${dialect.slice(0, 2)}${(partner += 1)}`;

  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_2FA_GRACE_SIGNINS: "1", FAMOS_PUBLIC_URL: "https://famos.dealer.example" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Before the wave, password only: Profile → Set up authenticator app → its first code. */
  async function appSetUpEarly() {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    await t.deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: `${user.login_id}@dealer.example`, grace_used: 0, announced_at: null }).execute();
    const thief = new FormClient(t.app);
    expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/");
    const owner = new FormClient(t.app);
    expect((await submitPassword(owner, user.login_id, user.password)).headers.location).toBe("/");
    await owner.get("/profile");
    const started = await owner.post("/profile/app", { password: user.password });
    expect(started.headers.location).toBe("/profile/app");
    const secret = secretFrom((await owner.get("/profile/app")).body);
    expect((await owner.post("/profile/app/confirm", { code: await appCode(secret, t.clock.now()) })).statusCode).toBe(200);
    return { user, p, thief, owner, secret };
  }

  it("the password alone signs in no more, and no other password-only session goes on; the one that set it up proved it, and stays", async () => {
    const { user, thief, owner } = await appSetUpEarly();
    expect((await thief.get("/")).body).not.toContain(PORTAL);
    // The setup's session proved the app's code in it: a two-factor session now (verifiedSessionEnd), not ended as the thief's is.
    expect((await owner.get("/")).body).toContain(PORTAL);
    const sessions = await t.deps.db.selectFrom("sessions").select(["end_reason", "created_at"]).where("user_id", "=", user.id).orderBy("created_at").execute();
    expect(sessions.map((r) => r.end_reason).sort()).toEqual([null, "two-factor-required"]);
    // The password alone opens the portal no more, nor "User profile": the app first (OTP capture's strong step).
    const again = new FormClient(t.app);
    expect((await submitPassword(again, user.login_id, user.password)).headers.location).toBe("/otp");
    expect((await again.get("/enrol")).headers.location).toBe("/otp");
    expect((await again.post("/enrol/later", { email: "", confirmEmail: "" })).headers.location).not.toBe("/");
    expect((await again.get("/")).body).not.toContain(PORTAL);
  });

  /** A wave 20 minutes away, a password-only session, a strong factor set up in it: does the start still end it? */
  async function crossTheStart(setUp: (owner: FormClient, password: string) => Promise<void>) {
    const start = t.clock.now();
    const p = newPartner();
    const wave = start + 20 * 60_000;
    await setWaveStart(t.deps.db, p, wave, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const thief = new FormClient(t.app);
    expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/");
    const owner = new FormClient(t.app);
    expect((await submitPassword(owner, user.login_id, user.password)).headers.location).toBe("/");
    await owner.get("/profile");
    await setUp(owner, user.password);
    t.clock.set(wave - 60_000);
    const before = await owner.get("/");
    t.clock.set(wave + 5 * 60_000);
    const after = await owner.get("/profile");
    const thiefAfter = await thief.get("/");
    t.clock.set(start);
    expect(before.body).toContain(PORTAL);
    expect(after.statusCode).toBe(200);
    expect(after.body).toContain(PORTAL);
    expect(thiefAfter.body).not.toContain(PORTAL);
    const rows = await t.deps.db.selectFrom("sessions").select(["end_reason", "expires_at", "verified_at", "created_at"]).where("user_id", "=", user.id).orderBy("created_at").execute();
    const live = rows.filter((r) => r.end_reason === null);
    expect(live).toHaveLength(1);
    // FAMOS_SESSION_MAX from its start, as any session whose second factor was verified in it.
    expect(Number(live[0]!.expires_at)).toBe(Number(live[0]!.created_at) + t.deps.config.session.maxMs);
    expect(live[0]!.verified_at).not.toBeNull();
  }

  it("an authenticator app set up in a before-wave session makes it a two-factor session: the wave's start does not end it", async () => {
    await crossTheStart(async (owner, password) => {
      expect((await owner.post("/profile/app", { password })).headers.location).toBe("/profile/app");
      const secret = secretFrom((await owner.get("/profile/app")).body);
      expect((await owner.post("/profile/app/confirm", { code: await appCode(secret, t.clock.now()) })).statusCode).toBe(200);
    });
  });

  it("a passkey added in a before-wave session makes it a two-factor session: the wave's start does not end it", async () => {
    await crossTheStart(async (owner, password) => {
      const started = await owner.post("/profile/passkeys/options", { name: "Laptop", password }, { headers: { accept: "application/json" } });
      expect(started.statusCode).toBe(200);
      const { options } = started.json() as { options: PublicKeyCredentialCreationOptionsJSON };
      const credential = new SoftAuthenticator().create(options, { origin: "https://famos.dealer.example" });
      const added = await owner.post("/profile/passkeys", { name: "Laptop", credential: JSON.stringify(credential) });
      expect(added.statusCode).toBe(200);
      expect(recoveryCodesFrom(added.body)).toHaveLength(10);
    });
  });

  it("whoever has only the password cannot enrol an address of theirs: the app comes first, then \"User profile\" and its code to the new address", async () => {
    const { user, secret } = await appSetUpEarly();
    const thief = new FormClient(t.app);
    expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/otp");
    const otp = (await thief.get("/otp")).body;
    // No emailed code offered (there is no address to send it to), the app is.
    expect(otp).toContain("/otp/app");
    expect(otp).not.toContain("/otp/regenerate");
    // A code typed, or asked for again, goes nowhere: there is none, and no address to send one to.
    expect([400, 401]).toContain((await thief.post("/otp", { code: "123456" })).statusCode);
    await thief.get("/otp");
    expect((await thief.post("/otp/regenerate", {})).headers.location ?? "").not.toBe("/enrol");
    expect(await t.deps.db.selectFrom("codes").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
    expect((await thief.post("/enrol", { email: "thief@evil.example", confirmEmail: "thief@evil.example" })).headers.location).toBe("/otp");
    expect((await t.deps.db.selectFrom("users").select(["otp_email", "pending_email"]).where("id", "=", user.id).executeTakeFirstOrThrow())).toEqual({ otp_email: null, pending_email: null });
    await thief.get("/otp/app");
    expect((await thief.post("/otp/app", { code: "000000" })).statusCode).toBe(401);
    // The owner, with the app: "User profile" next (no "Later"), and the address confirmed by its own code.
    const owner = new FormClient(t.app);
    expect((await submitPassword(owner, user.login_id, user.password)).headers.location).toBe("/otp");
    t.clock.advance(30_000);
    await owner.get("/otp/app");
    expect((await owner.post("/otp/app", { code: await appCode(secret, t.clock.now()) })).headers.location).toBe("/enrol");
    expect((await owner.get("/")).headers.location).toBe("/enrol");
    expect((await owner.get("/enrol")).body).not.toContain("/enrol/later");
    const address = `own.box.${user.id.slice(-6).toLowerCase()}@dealer.example`;
    expect((await owner.post("/enrol", { email: address, confirmEmail: address })).headers.location).toMatch(/^\/otp/);
    const code = await nextCode(t.smtp, address);
    await owner.get("/otp");
    expect((await owner.post("/otp", { code })).headers.location).toBe("/");
    expect((await owner.get("/")).body).toContain(PORTAL);
    expect((await t.deps.db.selectFrom("users").select("otp_email").where("id", "=", user.id).executeTakeFirstOrThrow()).otp_email).toBe(address);
  });

  it("a temporary password is used up by the enrolment's code, as for anyone without an address: a \"User profile\" left after the app does not spend it", async () => {
    const { user, secret } = await appSetUpEarly();
    await t.deps.db.updateTable("users").set({ password_temporary_until: t.clock.now() + DAY }).where("id", "=", user.id).execute();
    const first = new FormClient(t.app);
    expect((await submitPassword(first, user.login_id, user.password)).headers.location).toBe("/otp");
    t.clock.advance(30_000);
    await first.get("/otp/app");
    expect((await first.post("/otp/app", { code: await appCode(secret, t.clock.now()) })).headers.location).toBe("/enrol");
    await first.get("/enrol");
    expect((await first.post("/enrol/cancel", { email: "", confirmEmail: "" })).headers.location).toBe("/login?cancelled=1");
    // Signing in again with it still works; the app again, then "User profile", then "Choose a new password".
    const second = new FormClient(t.app);
    expect((await submitPassword(second, user.login_id, user.password)).headers.location).toBe("/otp");
    t.clock.advance(30_000);
    await second.get("/otp/app");
    expect((await second.post("/otp/app", { code: await appCode(secret, t.clock.now()) })).headers.location).toBe("/enrol");
    await second.get("/enrol");
    const address = `temp.box.${user.id.slice(-6).toLowerCase()}@dealer.example`;
    await second.post("/enrol", { email: address, confirmEmail: address });
    const code = await nextCode(t.smtp, address);
    await second.get("/otp");
    expect((await second.post("/otp", { code })).headers.location).toBe("/choose-password");
  });

  it("removing the last factor (support) returns the account to its wave's rule; the announcement counts it as to come only then", async () => {
    const { user, p } = await appSetUpEarly();
    expect(await announceRollout(t.deps, { partner: p, dryRun: true, actor: ACTOR })).toMatchObject({ mailed: 0, alreadyTwoFactor: 1 });
    const removed = await removeSecondFactors(t.deps, { user: null, audit: ACTOR } as never, user.id, "");
    expect(removed.kind).toBe("removed");
    expect(await announceRollout(t.deps, { partner: p, dryRun: true, actor: ACTOR })).toMatchObject({ mailed: 1, alreadyTwoFactor: 0 });
    const again = new FormClient(t.app);
    expect((await submitPassword(again, user.login_id, user.password)).headers.location).toBe("/");
  });
});
