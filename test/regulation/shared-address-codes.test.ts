import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressLockInfo } from "../../src/regulation/locks.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signIn, submitPassword, type TestUser } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { otherCode } from "../security/helpers.ts";

const NETWORK_PAUSED = "Sign-in from this network is paused for new browsers until";

/**
 * SPEC "Locks": "Staff of one dealership share one public address: one person's typos must never keep
 * colleagues out." The address counts what can be tried across login IDs without the password: wrong
 * passwords (spraying) and the self-service reset's wrong codes. A wrong second-factor code comes only
 * after the right password, dies after FAMOS_OTP_TRIES, and the login ID's code counter pauses and at
 * FAMOS_CODE_HARD_LOCK locks it: counted on the address too, ten colleagues on new browsers typing five
 * wrong codes each paused sign-in for every new browser at the dealership. Default
 * FAMOS_ADDRESS_LOCK_AFTER (50); each test its own address.
 */
describe.each(DIALECTS)("one dealership's address: what counts on it (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => t?.close());

  /** A new browser at `ip`: the right password, then `wrong` wrong codes. False when the password step was refused. */
  async function typosAtCapture(user: TestUser, ip: string, wrong: number): Promise<boolean> {
    const client = new FormClient(t.app, ip);
    const mark = await t.mailbox.mark();
    if ((await submitPassword(client, user.login_id, user.password)).headers.location !== "/otp") return false;
    const code = await t.mailbox.code(user.otp_email!, mark);
    await client.get("/otp");
    for (let i = 0; i < wrong; i += 1) expect((await client.post("/otp", { code: otherCode(code, i + 1) })).statusCode).toBe(401);
    return true;
  }

  it("12 colleagues on new browsers each type 5 wrong codes after the right password; the 13th, on a new browser, signs in fully", async () => {
    const ip = "203.0.113.120";
    const reached: boolean[] = [];
    for (let i = 0; i < 12; i += 1) reached.push(await typosAtCapture(await addUser(t.deps), ip, 5));
    expect(reached).toEqual(Array(12).fill(true));
    // 60 wrong codes, none of them on the address.
    expect(await addressLockInfo(t.deps.db, ip, t.clock.now())).toBeNull();

    const thirteenth = await signIn(t, { user: await addUser(t.deps), ip, page: null });
    expect(thirteenth.answer.statusCode).toBe(303);
    expect((await thirteenth.client.get("/profile")).statusCode).toBe(200);
  });

  it("spraying still pauses the address: 50 wrong passwords across login IDs, then the 51st new browser is refused; a code from the paused address is refused as before", async () => {
    const ip = "203.0.113.121";
    // A colleague reached OTP capture before the spraying began.
    const colleague = await signIn(t, { user: await addUser(t.deps), ip, until: "otp" });
    for (let i = 0; i < 50; i += 1) expect((await submitPassword(new FormClient(t.app, ip), `sprayed.${database}.${i}`, "Summer2026!")).statusCode).toBe(401);
    expect(await addressLockInfo(t.deps.db, ip, t.clock.now())).toMatchObject({ failures: 50, lockedUntil: t.clock.now() + 60_000 });

    const newcomer = await addUser(t.deps);
    const refused = await submitPassword(new FormClient(t.app, ip), newcomer.login_id, newcomer.password);
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain(NETWORK_PAUSED);
    // The right code and a wrong one alike: refused by the address's pause, nothing counted or extended.
    for (const code of [otherCode(colleague.code!), colleague.code!]) {
      const answer = await colleague.client.post("/otp", { code });
      expect(answer.statusCode).toBe(429);
      expect(answer.body).toContain(NETWORK_PAUSED);
    }
    expect(await addressLockInfo(t.deps.db, ip, t.clock.now())).toMatchObject({ failures: 50 });
  });

  it("the self-service reset's wrong codes, which need no password, still count on the address: 50 across login IDs pause it", async () => {
    const ip = "203.0.113.122";
    const NEW = "a new password for it";
    async function wrongResetCode(loginId: string) {
      const stranger = new FormClient(t.app, ip);
      await stranger.get("/forgot-password");
      await stranger.post("/forgot-password", { loginId });
      await t.app.afterReply.settled();
      await stranger.get("/forgot-password/code");
      return stranger.post("/forgot-password/code", { code: "000000", newPassword: NEW, confirmNewPassword: NEW });
    }
    for (let i = 0; i < 50; i += 1) expect((await wrongResetCode(`guessed.${database}.${i}`)).statusCode).toBe(400);
    expect(await addressLockInfo(t.deps.db, ip, t.clock.now())).toMatchObject({ failures: 50, lockedUntil: t.clock.now() + 60_000 });
    expect((await wrongResetCode(`guessed.${database}.50`)).statusCode).toBe(429);

    const newcomer = await addUser(t.deps);
    const refused = await submitPassword(new FormClient(t.app, ip), newcomer.login_id, newcomer.password);
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain(NETWORK_PAUSED);
  });
});
