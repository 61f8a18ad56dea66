import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAUSE_SUBJECT } from "../../src/regulation/lock-notice.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../store/dialects.ts";
import { atCode, liveSessions, otherCode } from "./helpers.ts";

/** Attacks on the one-time passcode itself (SPEC "Codes"; ASVS 2.7.3, 2.8.4; NIST SP 800-63B 5.1.3.2). */
describe("attacks on codes", () => {
  let t: TestApp;
  beforeAll(async () => {
    // Many tries per code and a high lock threshold, so each test sees the rule it is about.
    t = await createTestApp({ env: { FAMOS_OTP_TRIES: "100", FAMOS_LOCK_AFTER: "1000" } });
  });
  afterAll(async () => t.close());

  it("ASVS 2.7.3 / NIST SP 800-63B 5.1.3.2: a used code replayed in a later sign-in fails", async () => {
    const user = await addUser(t.deps);
    const first = await atCode(t, user);
    expect((await first.client.post("/otp", { code: first.code })).statusCode).toBe(303);
    const second = await atCode(t, user);
    const replay = await second.client.post("/otp", { code: first.code });
    expect(replay.statusCode).toBe(401);
    expect((await second.client.get("/profile")).headers.location).toBe("/otp");
  });

  it("ASVS 2.8.4: the code's own request replayed with the cookie it was sent with fails (the token changed at the step)", async () => {
    const { client, code } = await atCode(t);
    const cookie = client.cookieHeader();
    const csrf = client.csrf!;
    expect((await client.post("/otp", { code })).statusCode).toBe(303);
    const replay = await t.app.inject({
      method: "POST",
      url: "/otp",
      payload: new URLSearchParams({ code, _csrf: csrf }).toString(),
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(replay.statusCode).toBe(303);
    // The replayed cookie names a session token that no longer exists: sign-in says the session ended.
    expect(replay.headers.location).toBe("/login?ended=1");
  });

  it("ASVS 2.7.3: a code from one sign-in does not work in another sign-in of the same user, and still works in its own", async () => {
    const user = await addUser(t.deps);
    const a = await atCode(t, user);
    const b = await atCode(t, user);
    expect(a.code).not.toBe(b.code);
    expect((await b.client.post("/otp", { code: a.code })).statusCode).toBe(401);
    expect((await a.client.post("/otp", { code: a.code })).statusCode).toBe(303);
    expect((await b.client.post("/otp", { code: b.code })).statusCode).toBe(303);
  });

  it("ASVS 2.7.3: a code sent to one user does not sign in another user", async () => {
    const victim = await atCode(t);
    const attacker = await atCode(t);
    const stolen = await attacker.client.post("/otp", { code: victim.code });
    expect(stolen.statusCode).toBe(401);
    expect(await liveSessions(t.deps, attacker.user.id)).toMatchObject([{ stage: "otp" }]);
    expect((await victim.client.post("/otp", { code: victim.code })).statusCode).toBe(303);
  });

  it("SPEC Locks: 50 parallel wrong codes past the threshold start one lock and send one email", async () => {
    const local = await createTestApp({ env: { FAMOS_OTP_TRIES: "100" } });
    try {
      const { client, code } = await atCode(local);
      await Promise.all(Array.from({ length: 50 }, (_, i) => client.post("/otp", { code: otherCode(code, i + 1) })));
      const queued = await local.deps.db.selectFrom("outbox").select("subject").where("kind", "=", "lock").execute();
      expect(queued).toEqual([{ subject: PAUSE_SUBJECT }]);
      await local.smtp.waitForMessage((m) => m.subject === PAUSE_SUBJECT);
    } finally {
      await local.close();
    }
  });
});

describe.each(DIALECTS)("races on the code (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_OTP_TRIES: "100", FAMOS_LOCK_AFTER: "1000" } });
  });
  afterAll(async () => t.close());

  it("SPEC Codes: 20 parallel requests with the right code make exactly one session, and count no failure", async () => {
    const { client, code, user } = await atCode(t);
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.post("/otp", { code })));
    const winners = answers.filter((a) => a.statusCode === 303 && a.headers.location === "/");
    expect(winners).toHaveLength(1);
    // The others lost the race: the code was used, or the session's token had already changed.
    const losers = answers.filter((a) => a !== winners[0]);
    expect(losers.every((a) => a.statusCode === 401 || (a.statusCode === 303 && a.headers.location === "/login?ended=1"))).toBe(true);
    const sessions = await liveSessions(t.deps, user.id);
    expect(sessions.filter((s) => s.stage === "full")).toHaveLength(1);
    expect((await accountLockInfo(t.deps, user.login_id, t.clock.now())).codeFailures).toBe(0);
  });

  it("NIST SP 800-63B 5.2.2: 50 parallel wrong codes count 50 toward the lock", async () => {
    const { client, code, user } = await atCode(t);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => client.post("/otp", { code: otherCode(code, i + 1) })));
    expect(answers.every((a) => a.statusCode === 401)).toBe(true);
    expect((await accountLockInfo(t.deps, user.login_id, t.clock.now())).codeFailures).toBe(50);
    const tries = await t.deps.db.selectFrom("codes").select("tries").where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(tries.tries).toBe(50);
  });
});
