import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { startBounceListener, type BounceListener } from "../../src/bounce/listener.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import { type ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

const SECRET = "f".repeat(20) + "0123456789abcdefghij";

/**
 * SPEC people: a dealership's staff share one public address (sales@…), which the dealership's own server
 * forwards or expands to a staff member's mailbox. When that mailbox is dead, the report FAMOS gets names it
 * as Final-Recipient, not the shared address FAMOS mailed: the shared address took the mail. One forward
 * gone wrong must not tell every colleague behind the shared address that it is dead, nor stop their codes:
 * the report is recorded (audit mail.forward-bounced, on the support user page), counted apart
 * (famos_mail_bounced_total{kind="forward"}), and the shared address stays deliverable, by the listener and
 * the webhook alike (recordBounce). A Final-Recipient that is the mailed address in other letters is that
 * address (addressKey). Real smtp-server and DSNs read as the listener reads them; SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("a bounce of a forward behind a shared address (%s)", (database) => {
  let t: TestApp;
  let listener: BounceListener;
  let support: FormClient;
  let ip = 0;

  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test", FAMOS_BOUNCE_WEBHOOK_SECRET: SECRET } });
    listener = await startBounceListener(t.deps, { host: "127.0.0.1", port: 0 });
    const admin = await addUser(t.deps, { role: "support", email: `support.fwd.${database}@famos.test` });
    support = new FormClient(t.app, "10.9.2.1");
    await signInFully(support, t.smtp, admin);
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  const codeMailFor = (email: string) => codeMail(t, email, `10.9.3.${(ip += 1)}`);
  const forwardBounce = (mail: ReceivedMail, finalRecipient: string) =>
    sendFromNullSender(listener.port, mail.envelopeFrom, dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: `550 5.1.1 <${finalRecipient}>: Recipient address rejected: User unknown`, finalRecipient }));
  const forwards = async (loginId: string) =>
    (await t.deps.db.selectFrom("audit").select(["actor", "detail"]).where("event", "=", "mail.forward-bounced").where("subject", "=", loginId).execute()).map((a) => ({ actor: a.actor, detail: JSON.parse(a.detail) as Record<string, unknown> }));
  const forwardCount = async () => (await t.deps.metrics.mailBounced.get()).values.find((v) => v.labels.kind === "forward")?.value ?? 0;

  it("a report naming the staff member's dead mailbox leaves the shared address deliverable for everyone, recorded once and shown to support", async () => {
    const shared = `sales.${database}@dealer.example`;
    const { user, client, mail } = await codeMailFor(shared);
    const before = await forwardCount();
    await forwardBounce(mail, `old.jane.${database}@staff.dealer.example`);
    await forwardBounce(mail, `old.jane.${database}@staff.dealer.example`);

    expect(await addressProblems(t.deps.db, shared)).toBeNull();
    expect((await client.get("/otp")).body).not.toContain("could not be delivered");
    const { client: colleague } = await codeMailFor(shared);
    expect((await colleague.get("/otp")).body).not.toContain("could not be delivered");
    expect(await forwards(user.login_id)).toEqual([
      { actor: "bounce:smtp", detail: expect.objectContaining({ to: shared, forwardedTo: `old.jane.${database}@staff.dealer.example`, status: "5.1.1", bounce: "hard" }) },
    ]);
    expect(await forwardCount()).toBe(before + 1);
    expect(await t.deps.db.selectFrom("outbox").select("bounce_kind").where("message_id", "=", mail.messageId).executeTakeFirst()).toEqual({ bounce_kind: null });
    const page = await support.get(`/support/users/${user.id}`);
    expect(page.body).toContain("A forward of the email to another mailbox bounced");
    expect(page.body).toContain("forwardedTo: ");
    expect(page.body).not.toContain("Undeliverable since");
  });

  it("a Final-Recipient that is the mailed address in other letters is that address: undeliverable as before", async () => {
    const email = `desk.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    await forwardBounce(mail, ` DESK.${database}@Dealer.Example`);
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ undeliverableAt: expect.any(Number) });
  });

  it("keeps a forged Final-Recipient's control and bidi characters off pages and terminals", async () => {
    const shared = `parts.${database}@dealer.example`;
    const { user, mail } = await codeMailFor(shared);
    await forwardBounce(mail, `evil\u202E\u001b[2J.${database}@staff.dealer.example`);
    const [record] = await forwards(user.login_id);
    expect(record?.detail.forwardedTo).toBe(`evil\uFFFD [2J.${database}@staff.dealer.example`);
    expect(await addressProblems(t.deps.db, shared)).toBeNull();
  });

  it("the webhook's report with a recipient other than the mailed address is a forward's too", async () => {
    const shared = `service.${database}@dealer.example`;
    const { user, mail } = await codeMailFor(shared);
    const hook = (body: unknown) => t.app.inject({ method: "POST", url: "/hooks/bounce", headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` }, payload: JSON.stringify(body) });
    const report = { messageId: mail.messageId, type: "hard", status: "5.1.1", reason: "550 5.1.1 user unknown", recipient: `old.max.${database}@staff.dealer.example` };
    const response = await hook([report, report]);
    expect([response.statusCode, response.json()]).toEqual([200, { recorded: 1, duplicates: 1, unknown: 0 }]);
    expect(await addressProblems(t.deps.db, shared)).toBeNull();
    expect(await forwards(user.login_id)).toEqual([{ actor: "bounce:webhook", detail: expect.objectContaining({ to: shared, forwardedTo: `old.max.${database}@staff.dealer.example` }) }]);
    // The mailed address itself, as the provider names it: the address's own bounce.
    expect((await hook({ messageId: mail.messageId, type: "hard", status: "5.1.1", recipient: shared.toUpperCase() })).json()).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
    expect(await addressProblems(t.deps.db, shared)).toMatchObject({ undeliverableAt: expect.any(Number) });
  });
});
