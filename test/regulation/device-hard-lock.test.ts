import { afterEach, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { loginLockInfo } from "../../src/regulation/locks.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { otherCode } from "../security/helpers.ts";

const WEEK = 7 * 24 * 3_600_000;
const HARD_LOCKED = "locked after too many wrong codes, until your retail IT team unlocks it";

/**
 * SPEC "Locks": "At 100 wrong codes the account stays locked until support unlocks it" (NIST SP
 * 800-63B 5.2.2: at most 100 consecutive failures per account). A browser holding the login ID's
 * device cookie counts its failures on that device alone, and that device counter had no permanent
 * lock: a thief at a shared PC where the owner had signed in, knowing her password, could guess her
 * codes without end, FAMOS_DEVICE_LOCK_AFTER per pause. Over real HTTP, on both databases; the lock
 * at 6 wrong codes (FAMOS_CODE_HARD_LOCK) so that no timed pause (FAMOS_DEVICE_LOCK_AFTER, 10) comes first.
 */
describe.each(DIALECTS)("a known browser's wrong codes (%s)", (database) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("NIST SP 800-63B 5.2.2: at FAMOS_CODE_HARD_LOCK wrong codes a browser with the device cookie is locked until support unlocks it, and Unlock lifts it", async () => {
    t = await createTestApp({ database, env: { FAMOS_CODE_HARD_LOCK: "6", FAMOS_OTP_TRIES: "10" } });
    const http = overHttp(await listen(t));
    const user = await addUser(t.deps);
    // The owner signs in once at the shared PC: that browser now holds her device cookie. She signs out.
    const { client } = await signIn(t, { user, client: new FormClient(http), page: "/profile" });
    expect([...client.cookies.keys()].some((name) => name.endsWith("famos_device"))).toBe(true);
    expect((await client.post("/logout")).statusCode).toBe(303);

    // Someone who knows her password, at that browser: six wrong codes.
    const code = await sixWrongCodes(t, client, user);

    // Even the right code is refused now, and a week later that browser's password step too.
    const right = await client.post("/otp", { code });
    expect(right.statusCode).toBe(429);
    expect(right.body).toContain(HARD_LOCKED);
    const started = await queryAudit(t.deps.db, { subject: user.login_key, event: "lock.started" });
    expect(started.map((e) => e.detail)).toEqual([expect.objectContaining({ kind: "code", scope: "device-until-unlocked", until: null })]);
    // The owner is told it is that browser's lock, and what to do if it was not her.
    const told = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!) && m.subject === "FAMOS sign-in locked", 10_000);
    expect(told.text.replace(/\s+/g, " ")).toContain("has been locked on one browser");
    expect(told.text.replace(/\s+/g, " ")).toContain("change your password on the Profile tab from another browser");
    t.clock.advance(WEEK);
    const later = await submitPassword(client, user.login_id, user.password);
    expect(later.statusCode).toBe(401);
    expect(later.body).toContain(HARD_LOCKED);
    // Support sees it, and Unlock lifts it.
    const info = await loginLockInfo(t.deps.db, user.login_key, t.clock.now());
    expect(info.devices).toEqual([expect.objectContaining({ failures: 6, hardLocked: true })]);
    const support = await signIn(t, { role: "support", client: new FormClient(http), page: `/support/users/${user.id}` });
    expect((await support.client.get(`/support/users/${user.id}`)).body).toContain("Browser 1: 6 failures, locked until unlocked");
    expect((await support.client.post(`/support/users/${user.id}/unlock`)).statusCode).toBe(303);
    const mark2 = await t.mailbox.mark();
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    const fresh = await t.mailbox.code(user.otp_email!, mark2);
    await client.get("/otp");
    expect((await client.post("/otp", { code: fresh })).statusCode).toBe(303);
  });

  it("SPEC Locks: that browser's lock is its own; the owner's other browser and a new one sign in, and the login ID shows no lock", async () => {
    t = await createTestApp({ database, env: { FAMOS_CODE_HARD_LOCK: "6", FAMOS_OTP_TRIES: "10" } });
    const http = overHttp(await listen(t));
    const user = await addUser(t.deps);
    const shared = (await signIn(t, { user, client: new FormClient(http), page: "/profile" })).client;
    const own = (await signIn(t, { user, client: new FormClient(http), page: "/profile" })).client;
    expect((await shared.post("/logout")).statusCode).toBe(303);
    expect((await own.post("/logout")).statusCode).toBe(303);

    const code = await sixWrongCodes(t, shared, user);
    expect((await shared.post("/otp", { code })).statusCode).toBe(429);

    const info = await loginLockInfo(t.deps.db, user.login_key, t.clock.now());
    expect([info.locked, info.hardLocked, info.codeFailures]).toEqual([false, false, 0]);
    await signIn(t, { user, client: own, page: null });
    await signIn(t, { user, client: new FormClient(http), page: null });
  });
});

/** Someone who knows the owner's password, at a browser with her device cookie: six wrong codes. The right code, for the test to try. */
async function sixWrongCodes(t: TestApp, client: FormClient, user: Awaited<ReturnType<typeof addUser>>): Promise<string> {
  const mark = await t.mailbox.mark();
  expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
  const code = await t.mailbox.code(user.otp_email!, mark);
  await client.get("/otp");
  for (let i = 1; i <= 6; i += 1) expect((await client.post("/otp", { code: otherCode(code, i) })).statusCode).toBe(401);
  return code;
}
