import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { atOtpWhileRelayDenied } from "../support/relay-access-denied.ts";

/**
 * A relay that relays to its own domains only answers "554 5.7.1 Relay access denied" at RCPT TO for a
 * staff address elsewhere: that code's mail waits (relay-pause.ts: the rest of the mail goes), yet no try
 * and no new code will reach it. OTP capture says so — FAMOS's mail server does not send email to that
 * address, Regenerate OTP will not help, whom to ask — rather than "FAMOS keeps trying … use Regenerate
 * OTP", while the code waits and once it has failed at the code's expiry. A relay's refusal in other words
 * (a 4yz) still says it keeps trying. Through HTTP, with the real smtp-server refusing that recipient only.
 */
describe("OTP capture while the relay refuses to relay to the staff address", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const state = async (email: string) => (await t.deps.db.selectFrom("outbox").select("state").where("recipient", "=", email).executeTakeFirst())?.state;

  it("says the mail server does not send email to the address, that Regenerate OTP will not help, and points to whom to ask; the same once the mail has failed", async () => {
    const { user, client } = await atOtpWhileRelayDenied(t, "abroad-otp", "10.9.0.1");
    expect(await state(user.otp_email!)).toBe("queued");

    const waiting = (await client.get("/otp")).body;
    expect(waiting).toContain("mail server does not send email to");
    expect(waiting).toContain("Regenerate OTP will not help");
    expect(waiting).toContain('<a href="/wrong-email">Entered a wrong email?</a>');
    expect(waiting).not.toContain("FAMOS keeps trying");

    // Tried until its code expires, then failed: still the relay's refusal, not "Use Regenerate OTP".
    for (let minute = 0; minute < 20; minute += 1) {
      t.clock.advance(60_000);
      await t.services.sender.drain();
    }
    expect(await state(user.otp_email!)).toBe("failed");
    const failed = (await client.get("/otp")).body;
    expect(failed).toContain("mail server does not send email to");
    expect(failed).not.toContain("Sending the email failed");
    t.smtp.rejectPermanently(false);
  });

  it("a temporary refusal still says FAMOS keeps trying", async () => {
    const user = await addUser(t.deps, { loginId: "later-otp", email: "later-otp@dealer.example" });
    t.smtp.rejectPermanently(true, 450, "4.2.0 Mailbox busy", [user.otp_email!]);
    const client = new FormClient(t.app, "10.9.0.2");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    await t.services.sender.drain();
    const body = (await client.get("/otp")).body;
    expect(body).toContain("The mail server has not taken the email for");
    expect(body).not.toContain("mail server does not send email to");
    t.smtp.rejectPermanently(false);
  });
});
