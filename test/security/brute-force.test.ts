import { afterEach, describe, expect, it } from "vitest";
import { LOCK_SUBJECT, PAUSE_SUBJECT } from "../../src/regulation/lock-notice.ts";
import { accountLockInfo, unlockAccountCounters } from "../../src/regulation/locks.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { atCode, otherCode } from "./helpers.ts";

const MINUTE = 60_000;

/** Guessing codes and passwords over HTTP: SPEC "Tries", "Regenerate", "Locks", "Request limits". */
describe("brute force", () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  const lockMails = (to: string) => t.smtp.messages.filter((m) => [LOCK_SUBJECT, PAUSE_SUBJECT].includes(m.subject) && m.envelopeTo.includes(to));

  it("ASVS 2.8.4 / NIST SP 800-63B 5.1.3.2: after the last try the code is void, and even the right code then fails", async () => {
    t = await createTestApp({ env: { FAMOS_OTP_TRIES: "3", FAMOS_LOCK_AFTER: "50" } });
    const { client, code } = await atCode(t);
    const answers = [];
    for (let i = 1; i <= 3; i += 1) answers.push(await client.post("/otp", { code: otherCode(code, i) }));
    expect(answers.map((a) => a.statusCode)).toEqual([401, 401, 401]);
    expect(answers[2]!.body).toContain("That was the last try: this code no longer works");
    const right = await client.post("/otp", { code });
    expect(right.statusCode).toBe(401);
    expect(right.body).toContain("This code no longer works");
    expect((await client.get("/profile")).headers.location).toBe("/otp");
  });

  it("NIST SP 800-63B 5.2.2: with SPEC's defaults, 5 wrong codes lock the login ID and the right code is refused too", async () => {
    t = await createTestApp();
    const { client, code, user } = await atCode(t);
    for (let i = 1; i <= 5; i += 1) await client.post("/otp", { code: otherCode(code, i) });
    const right = await client.post("/otp", { code });
    expect(right.statusCode).toBe(429);
    expect((await accountLockInfo(t.deps, user.login_id, t.clock.now())).codeFailures).toBe(5);
  });

  it("SPEC Tries / NIST SP 800-63B 5.2.2: the count of wrong codes holds across Regenerate and a new sign-in", async () => {
    t = await createTestApp();
    const first = await atCode(t);
    const user = first.user;
    for (let i = 1; i <= 2; i += 1) expect((await first.client.post("/otp", { code: otherCode(first.code, i) })).statusCode).toBe(401);

    t.clock.advance(30_000);
    const before = t.smtp.messages.length;
    expect((await first.client.post("/otp/regenerate")).headers.location).toBe("/otp?notice=sent");
    const regenerated = await nextCode(t.smtp, user.otp_email!, before);
    await first.client.get("/otp");
    expect((await first.client.post("/otp", { code: otherCode(regenerated, 1) })).statusCode).toBe(401);
    expect((await accountLockInfo(t.deps, user.login_id, t.clock.now())).codeFailures).toBe(3);

    // A new sign-in, a new session, a new code: the count goes on from 3.
    const second = await atCode(t, user);
    expect((await second.client.post("/otp", { code: otherCode(second.code, 1) })).statusCode).toBe(401);
    expect((await accountLockInfo(t.deps, user.login_id, t.clock.now())).codeFailures).toBe(4);
    expect(lockMails(user.otp_email!)).toHaveLength(0);
    expect((await second.client.post("/otp", { code: otherCode(second.code, 2) })).statusCode).toBe(401);
    // The fifth wrong code started the lock: the right code is refused until it ends.
    expect((await second.client.post("/otp", { code: second.code })).statusCode).toBe(429);
    await t.smtp.waitForMessage((m) => m.subject === PAUSE_SUBJECT && m.envelopeTo.includes(user.otp_email!));

    t.clock.advance(MINUTE);
    const confirmed = await second.client.post("/otp", { code: second.code });
    expect(confirmed.statusCode).toBe(303);
    // A confirmed code resets the count.
    expect((await accountLockInfo(t.deps, user.login_id, t.clock.now())).codeFailures).toBe(0);
  });

  it("SPEC Locks: a locked login ID is refused at once, the refusal neither counts nor extends the lock, and it ends exactly on time", async () => {
    t = await createTestApp();
    const user = await addUser(t.deps);
    for (let i = 0; i < 5; i += 1) expect((await submitPassword(new FormClient(t.app, "192.0.2.1"), user.login_id, `wrong ${i}`)).statusCode).toBe(401);
    for (let i = 0; i < 10; i += 1) {
      t.clock.advance(5_000);
      expect((await submitPassword(new FormClient(t.app, "192.0.2.2"), user.login_id, user.password)).statusCode).toBe(401);
    }
    expect((await accountLockInfo(t.deps, user.login_id, t.clock.now())).passwordFailures).toBe(5);
    t.clock.advance(MINUTE - 50_000 - 1);
    expect((await submitPassword(new FormClient(t.app, "192.0.2.2"), user.login_id, user.password)).statusCode).toBe(401);
    t.clock.advance(1);
    const accepted = await submitPassword(new FormClient(t.app, "192.0.2.2"), user.login_id, user.password);
    expect(accepted.statusCode).toBe(303);
    expect(accepted.headers.location).toBe("/otp");
  });

  it("SPEC Locks: the user is emailed once when a lock starts, and again when a later, doubled lock starts", async () => {
    t = await createTestApp();
    const user = await addUser(t.deps);
    for (let i = 0; i < 8; i += 1) await submitPassword(new FormClient(t.app, "192.0.2.3"), user.login_id, `wrong ${i}`);
    const first = await t.smtp.waitForMessage((m) => m.subject === PAUSE_SUBJECT && m.envelopeTo.includes(user.otp_email!));
    expect(first.text).toContain("paused for 60 seconds");
    expect(first.text).toContain(user.login_id);
    t.clock.advance(MINUTE);
    await submitPassword(new FormClient(t.app, "192.0.2.3"), user.login_id, "wrong again");
    const second = await t.smtp.waitForMessage((m) => m.subject === PAUSE_SUBJECT && m.text.includes("paused for 2 minutes"));
    expect(second.envelopeTo).toEqual([user.otp_email]);
    expect(lockMails(user.otp_email!)).toHaveLength(2);
    const audit = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "lock.started").where("subject", "=", user.login_id).execute();
    expect(audit).toHaveLength(2);
  });

  it("NIST SP 800-63B 5.2.2: at FAMOS_CODE_HARD_LOCK wrong codes the account is locked until support unlocks it", async () => {
    t = await createTestApp({ env: { FAMOS_CODE_HARD_LOCK: "6", FAMOS_OTP_TRIES: "10" } });
    const { client, code, user } = await atCode(t);
    for (let i = 1; i <= 5; i += 1) await client.post("/otp", { code: otherCode(code, i) });
    t.clock.advance(MINUTE);
    await client.post("/otp", { code: otherCode(code, 6) });
    const mail = await t.smtp.waitForMessage((m) => m.subject === LOCK_SUBJECT && m.text.includes("until your retail IT team unlocks it"));
    expect(mail.envelopeTo).toEqual([user.otp_email]);
    expect((await client.post("/otp", { code })).statusCode).toBe(429);
    t.clock.advance(365 * 24 * 60 * MINUTE);
    expect((await submitPassword(new FormClient(t.app, "192.0.2.9"), user.login_id, user.password)).statusCode).toBe(401);
    await unlockAccountCounters(t.deps, user.login_id);
    expect((await submitPassword(new FormClient(t.app, "192.0.2.9"), user.login_id, user.password)).headers.location).toBe("/otp");
  });

  it("ASVS 2.2.1: more than FAMOS_RATE_LIMIT requests a minute from one address get 429 and a page saying when to try again", async () => {
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "3" } });
    const client = new FormClient(t.app, "192.0.2.77");
    await client.get("/login");
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await client.post("/login", { loginId: "nobody", password: "x" })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limited = await client.post("/login", { loginId: "nobody", password: "x" });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    expect(limited.headers["content-type"]).toContain("text/html");
    expect(limited.body).toMatch(/Please wait \d+ seconds and try again/);
    // Another address is not affected.
    const other = new FormClient(t.app, "192.0.2.78");
    await other.get("/login");
    expect((await other.post("/login", { loginId: "nobody", password: "x" })).statusCode).toBe(401);
  });
});
