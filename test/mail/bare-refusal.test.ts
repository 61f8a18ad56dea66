import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { until } from "../support/until.ts";

/**
 * A relay that refuses the recipient at RCPT TO with a bare "550 no such user" (no RFC 3463 enhanced
 * status, as Exim and older relays answer): a permanent refusal of the recipient is a hard bounce
 * (RFC 5321 §4.2.2, §3.3), as "550 5.1.1" is. Regenerate OTP would be refused the same way for ever.
 * Real smtp-server, SQLite.
 */
describe("a recipient refused at RCPT TO without an enhanced status code", () => {
  let t: TestApp;
  let it_: FormClient;
  beforeAll(async () => {
    t = await createTestApp();
    const supporter = await addUser(t.deps, { loginId: "bare-it", role: "support", email: "bare-it@famos.test" });
    it_ = new FormClient(t.app, "10.7.0.1");
    await signInFully(it_, t.smtp, supporter);
  });
  afterAll(async () => t.close());

  const outboxOf = (email: string) => t.deps.db.selectFrom("outbox").selectAll().where("recipient", "=", email).execute();

  it("bare 550 \"no such user\": a hard bounce, OTP capture says the address could not be delivered to, IT sees it in Needs attention", async () => {
    const user = await addUser(t.deps, { loginId: "bare-staff", email: "bare-staff@dealer.example" });
    t.smtp.rejectPermanently(true, 550, "no such user");
    const client = new FormClient(t.app, "10.7.0.2");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    const row = await until("the refusal recorded", async () => (await outboxOf(user.otp_email!)).find((r) => r.state === "failed"));
    t.smtp.rejectPermanently(false);
    expect(row).toMatchObject({ attempts: 1, bounce_kind: "hard", last_error: expect.stringMatching(/550 no such user/) });
    const otp = (await client.get("/otp")).body;
    expect(otp).toContain("The email with your code could not be delivered to");
    expect(otp).not.toContain("Sending the email failed");
    expect(await addressProblems(t.deps.db, user.otp_email!)).toMatchObject({ undeliverableAt: expect.any(Number), undeliverableReason: expect.stringContaining("550 no such user") });
    expect((await it_.get("/support/attention")).body).toContain(`>${user.login_id}</a>`);
    const audit = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.bounced").where("subject", "=", user.login_id).execute();
    expect(audit.map((a) => JSON.parse(a.detail))).toEqual([expect.objectContaining({ bounce: "hard", status: null, to: user.otp_email })]);
  });

  it("a bare 5xx refusal that is not about the recipient's mailbox (530 authentication required) blames no address", async () => {
    const user = await addUser(t.deps, { loginId: "bare-530", email: "bare-530@dealer.example" });
    t.smtp.rejectPermanently(true, 530, "Authentication required");
    const client = new FormClient(t.app, "10.7.0.3");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    await until("the try recorded", async () => (await outboxOf(user.otp_email!)).find((r) => r.attempts >= 1 && r.state !== "sending"));
    t.smtp.rejectPermanently(false);
    expect(await addressProblems(t.deps.db, user.otp_email!)).toBeNull();
  });
});
