import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { until } from "../support/until.ts";

/**
 * SPEC "Locks": a stranger who knows login IDs must not keep their owners out. With
 * FAMOS_PASSWORD_RESET=self, "Forgot password?" mails a code for a login ID alone, and at a relay slow to
 * answer (one that scans content: tens of seconds a message) every mail waits for one of the sender's
 * pooled connections. They used to wait in one line, first come first served, so a stranger's burst of
 * reset requests for a dealership's login IDs put every staff member's sign-in code behind them: codes
 * a person who typed her password waits for at OTP capture, arriving minutes late or after they expire.
 * A code the password or a session asked for (sign-in, enrolment, email change) now takes the next free
 * connection before mail a stranger can cause. Real HTTP handling (app.inject), SQLite, the test's SMTP
 * relay holding its replies (never slept through).
 */
describe("a stranger's reset requests at a slow relay", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => {
    t?.smtp.delayData(0);
    await t?.close();
  });

  it("do not hold back a colleague's sign-in code: it takes the next free connection before them", async () => {
    const batch = DEFAULT_SENDER_OPTIONS.batch;
    t.smtp.delayData(Infinity);
    // Opening time: the relay has the first colleagues' mail and answers nobody yet; every connection is busy.
    const early = await Promise.all(Array.from({ length: batch }, (_, i) => addUser(t.deps, { loginId: `early${i}`, email: `early${i}@dealer.example` })));
    for (const [i, user] of early.entries()) expect((await submitPassword(new FormClient(t.app, `10.1.0.${i + 1}`), user.login_id, user.password)).headers.location).toBe("/otp");
    await until("every early mail at the relay", () => t.smtp.messages.length === batch);

    // A stranger asks "Forgot password?" for ten login IDs she has seen on a printout.
    const targets = await Promise.all(Array.from({ length: 10 }, (_, i) => addUser(t.deps, { loginId: `target${i}`, email: `target${i}@dealer.example` })));
    const stranger = new FormClient(t.app, "198.51.100.7");
    for (const target of targets) {
      await stranger.get("/forgot-password");
      expect((await stranger.post("/forgot-password", { loginId: target.login_id })).headers.location).toBe("/forgot-password/code");
    }
    const resetMails = () => t.deps.db.selectFrom("outbox").select("id").where("kind", "=", "code.password-reset").execute();
    await until("the stranger's reset codes queued", async () => (await resetMails()).length === targets.length);

    // Bea types her password a moment later: her code's mail joins them.
    const bea = await addUser(t.deps, { loginId: "bea", email: "bea@dealer.example" });
    expect((await submitPassword(new FormClient(t.app, "10.1.0.99"), bea.login_id, bea.password)).headers.location).toBe("/otp");

    // The relay answers again: Bea's code is the first mail to go on a freed connection.
    t.smtp.delayData(0);
    await until("every mail at the relay", () => t.smtp.messages.length === batch + targets.length + 1);
    const after = t.smtp.messages.slice(batch).map((m) => m.envelopeTo[0]);
    expect(after[0]).toBe("bea@dealer.example");
    expect(after.slice(1).sort()).toEqual(targets.map((u) => u.otp_email).sort());
  });
});
