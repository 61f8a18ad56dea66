import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS } from "../store/dialects.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import type { FormClient } from "../support/client.ts";
import { atOtpWhileRelayDenied } from "../support/relay-access-denied.ts";

/**
 * A code's mail the relay will not relay to the staff address ("notRelayed") still waits and is tried
 * again while its code works: when the operator fixes the relay and a later try is taken, OTP capture's
 * status endpoint says "sent" — so the page, which polls while the answer says pending, must keep asking
 * while the mail waits. Once the mail has failed for good nothing changes any more: pending false. Through
 * HTTP with the real smtp-server (its messages parsed by mailparser), on both dialects.
 */
describe.each(DIALECTS)("OTP capture's status while the relay refuses to relay, then is fixed (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  const state = async (email: string) => (await t.deps.db.selectFrom("outbox").select("state").where("recipient", "=", email).executeTakeFirst())?.state;
  const status = async (client: FormClient) => (await client.get("/otp/delivery")).json() as { pending: boolean; html: string };

  it("keeps asking while the mail waits, and shows it sent once the fixed relay takes it", async () => {
    const { user, client } = await atOtpWhileRelayDenied(t, "fixed-relay", "10.9.1.1");
    expect(await state(user.otp_email!)).toBe("queued");

    const page = (await client.get("/otp")).body;
    expect(page).toContain("mail server does not send email to");
    expect(page).toContain('data-status-url="/otp/delivery"');
    expect(page).toContain('src="/static/delivery-status.js"');
    const waiting = await status(client);
    expect(waiting.html).toContain("mail server does not send email to");
    // True while it waits: the code may still arrive, so the page does not say it cannot.
    expect(waiting.html).toContain("the email will still arrive and this page will say so");
    expect(waiting.html).not.toContain("cannot arrive");
    expect(waiting.pending).toBe(true);

    // The operator fixes the relay: the next try goes.
    t.smtp.rejectPermanently(false);
    t.clock.advance(60_000);
    await t.services.sender.drain();
    expect(await state(user.otp_email!)).toBe("sent");
    const received = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!), 10_000);
    expect(received.subject).toBeTruthy();
    const sent = await status(client);
    expect(sent.html).toContain("We sent a code to");
    expect(sent.html).not.toContain("mail server does not send email to");
    expect(sent.pending).toBe(false);
  });

  it("stops asking once the mail has failed for good (its code expired): no later try can change it", async () => {
    const { user, client } = await atOtpWhileRelayDenied(t, "never-relayed", "10.9.1.2");
    for (let minute = 0; minute < 20; minute += 1) {
      t.clock.advance(60_000);
      await t.services.sender.drain();
    }
    expect(await state(user.otp_email!)).toBe("failed");
    const failed = await status(client);
    expect(failed.html).toContain("mail server does not send email to");
    expect(failed.html).toContain("so the code cannot arrive there");
    expect(failed.pending).toBe(false);
    expect((await client.get("/otp")).body).not.toContain("data-status-url");
    t.smtp.rejectPermanently(false);
  });
});
