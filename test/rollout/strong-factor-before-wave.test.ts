import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announceRollout } from "../../src/rollout/announce.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { removeSecondFactors } from "../../src/support/remove-factors.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { appCode, secretFrom } from "../strong-factors/helpers.ts";

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

  it("the password alone signs in no more, and no password-only session goes on, that which set it up included", async () => {
    const { user, thief, owner } = await appSetUpEarly();
    expect((await thief.get("/")).body).not.toContain(PORTAL);
    // The setup's session was opened by the password alone: it ends as the account's others (passwordOnlyOutlived).
    expect((await owner.get("/")).body).not.toContain(PORTAL);
    const reasons = await t.deps.db.selectFrom("sessions").select("end_reason").where("user_id", "=", user.id).execute();
    expect(reasons.map((r) => r.end_reason)).toEqual(["two-factor-required", "two-factor-required"]);
    // The password alone opens the portal no more, nor "User profile": the app first (OTP capture's strong step).
    const again = new FormClient(t.app);
    expect((await submitPassword(again, user.login_id, user.password)).headers.location).toBe("/otp");
    expect((await again.get("/enrol")).headers.location).toBe("/otp");
    expect((await again.post("/enrol/later", { email: "", confirmEmail: "" })).headers.location).not.toBe("/");
    expect((await again.get("/")).body).not.toContain(PORTAL);
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
    expect((await first.post("/enrol/cancel", { email: "", confirmEmail: "" })).headers.location).toBe("/login");
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
