import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { startBounceListener, type BounceListener } from "../../src/bounce/listener.ts";
import { DIALECTS } from "../store/dialects.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { until } from "../support/until.ts";
import { codeMailTo } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import { extractCode, type ReceivedMail } from "../support/smtp.ts";

const SECRET = "s".repeat(20) + "0123456789abcdefghij";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A mailbox that stays full (4.2.2) for days soft-bounces every code, and the staff member keeps being sent
 * codes that never arrive. Five soft bounces that speak of the mailbox itself (X.2.0–X.2.2), the first at
 * least three days before the last, with no code confirmed at the address between, count as a hard bounce
 * (src/bounce/record-bounce.ts: softBounceSet): the address is undeliverable, and it surfaces where a hard
 * bounce does — OTP capture, the support user page, Needs attention. Soft bounces about anything else (the
 * relay's 5.7.1, a network delay) never escalate: they come back for every staff member alike when FAMOS's
 * relay is at fault. The listener (real DSNs over SMTP) and the webhook, on SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("soft bounces that go on for days (%s)", (database) => {
  let t: TestApp;
  let listener: BounceListener;
  let ip = 0;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test", FAMOS_BOUNCE_WEBHOOK_SECRET: SECRET } });
    listener = await startBounceListener(t.deps, { host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  /** A sign-in of `user` at OTP capture, and its code mail as the receiving server got it. */
  const codeMail = (user: Parameters<typeof codeMailTo>[1]) => codeMailTo(t, user, `10.7.${database === "sqlite" ? 1 : 2}.${(ip += 1)}`);
  const byListener = (mail: ReceivedMail, status: string, diagnostic: string) =>
    sendFromNullSender(listener.port, mail.envelopeFrom, dsnFor(mail, { action: "delayed", status, diagnostic }));
  const byWebhook = async (mail: ReceivedMail, status: string, reason: string) => {
    const response = await t.app.inject({
      method: "POST",
      url: "/hooks/bounce",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
      payload: JSON.stringify({ messageId: mail.messageId, type: "soft", status, reason }),
    });
    expect(response.json()).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
  };
  /** `n` code mails to `user`, each reported by `report`, `every` ms apart (the clock advanced after each). */
  const bounceEach = async (user: Parameters<typeof codeMail>[0], n: number, every: number, report: (mail: ReceivedMail, i: number) => Promise<void>) => {
    for (let i = 0; i < n; i += 1) {
      await report((await codeMail(user)).mail, i);
      t.clock.advance(every);
    }
  };
  const undeliverable = async (email: string) => (await addressProblems(t.deps.db, email))?.undeliverableAt ?? null;

  it("through the listener: the fifth 4.2.2 on the fifth day makes the address undeliverable; OTP capture, the user page and Needs attention say so", async () => {
    const email = `full.smtp.${database}@dealer.example`;
    const user = await addUser(t.deps, { email });
    await bounceEach(user, 4, DAY, (mail) => byListener(mail, "4.2.2", "452 4.2.2 Mailbox full"));
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ softBounces: 4, undeliverableAt: null });
    const { client, mail } = await codeMail(user);
    await byListener(mail, "4.2.2", "452 4.2.2 Mailbox full");
    expect(await undeliverable(email)).toBe(t.clock.now());
    expect((await addressProblems(t.deps.db, email))?.undeliverableReason).toContain("Mailbox full");

    // The address is right and the mailbox full: the staff member is told to have it emptied, not sent to
    // support for a reset (the delivery line has no "Entered a wrong email?"), and support is told no reset
    // is needed — at a shared desk mailbox, resetting every holder's OTP email would fix nothing.
    const otp = (await client.get("/otp")).body;
    expect(otp).toContain("could not be delivered: the mailbox is full");
    expect(otp).toContain("Codes arrive again once it is emptied");
    expect(/<div id="delivery"[\s\S]*?<\/div>/.exec(otp)?.[0]).not.toContain("/wrong-email");
    const admin = await addUser(t.deps, { role: "support", email: `support.soft.${database}@famos.test` });
    const support = new FormClient(t.app, `10.7.9.${database === "sqlite" ? 1 : 2}`);
    await signInFully(support, t.smtp, admin);
    const userPage = (await support.get(`/support/users/${user.id}`)).body;
    expect(userPage).toContain("Undeliverable since");
    expect(userPage).toContain("the mailbox has been full for days: its holder must empty it; no reset is needed");
    const attention = (await support.get("/support/attention")).body;
    expect(attention).toContain(`>${user.login_id}</a>`);
    expect(attention).toContain("; the mailbox has been full for days: its holder must empty it; no reset is needed</td>");
    expect(/<section aria-labelledby="undeliverable-heading">[\s\S]*?<p>([^<]*)<\/p>/.exec(attention)?.[1]).toMatch(/full for days[^.]*no reset is needed/);

    // A hard bounce later (the address itself refused) is a hard bounce again: no longer "full".
    const { mail: hard } = await codeMail(user);
    await sendFromNullSender(listener.port, hard.envelopeFrom, dsnFor(hard, { action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 User unknown" }));
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ mailboxFull: false, undeliverableReason: "550 5.1.1 User unknown" });
    expect((await client.get("/otp")).body).not.toContain("the mailbox is full");
    const audit = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.bounced").where("subject", "=", user.login_id).execute();
    expect(audit.map((a) => JSON.parse(a.detail) as { undeliverable?: boolean }).filter((d) => d.undeliverable)).toHaveLength(1);
  });

  it("through the webhook: many in one day are not enough, one more three days after the first is; a confirmed code starts the count again", async () => {
    const email = `full.hook.${database}@dealer.example`;
    const user = await addUser(t.deps, { email });
    await bounceEach(user, 6, HOUR, (mail) => byWebhook(mail, "4.2.2", "452 4.2.2 Mailbox full"));
    expect(await undeliverable(email)).toBeNull();
    t.clock.advance(3 * DAY - 6 * HOUR);
    const last = await codeMail(user);
    await byWebhook(last.mail, "5.2.2", "552 5.2.2 Mailbox quota exceeded");
    expect(await undeliverable(email)).toBe(t.clock.now());

    // The code arrived after all (someone emptied the mailbox): confirmed, the address takes mail, and the
    // next full mailbox starts a new count.
    t.clock.advance(60_000);
    expect((await last.client.get("/otp")).body).toContain("could not be delivered");
    expect((await last.client.post("/otp", { code: extractCode(last.mail.text) })).statusCode).toBe(303);
    expect(await addressProblems(t.deps.db, email)).toBeNull();
    t.clock.advance(60_000);
    const again = await codeMail(user);
    await byWebhook(again.mail, "4.2.2", "452 4.2.2 Mailbox full");
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ softBounces: 1, undeliverableAt: null });
  });

  it("a report that arrives before the sender has recorded its send (a busy database): OTP capture shows the address's warning, not 'being sent'", async () => {
    // Seen in CI under load: the relay took the mail and its report came back before the sender's write of
    // 'sent'; the page said the mail was still being sent and hid that the address takes no mail.
    const email = `full.early.${database}@dealer.example`;
    const user = await addUser(t.deps, { email });
    await bounceEach(user, 6, HOUR, (mail) => byWebhook(mail, "4.2.2", "452 4.2.2 Mailbox full"));
    t.clock.advance(3 * DAY - 6 * HOUR);
    const last = await codeMail(user);
    // The sender's write of 'sent' first (it follows the relay's answer), then the row as it was before it.
    const sent = () => t.deps.db.selectFrom("outbox").select("state").where("message_id", "=", last.mail.messageId).executeTakeFirst();
    await until("the sender's record of the send", async () => (await sent())?.state === "sent");
    const held = await t.deps.db.updateTable("outbox").set({ state: "sending", sent_at: null }).where("message_id", "=", last.mail.messageId).executeTakeFirst();
    expect(Number(held.numUpdatedRows)).toBe(1);
    await byWebhook(last.mail, "5.2.2", "552 5.2.2 Mailbox quota exceeded");
    expect(await undeliverable(email)).toBe(t.clock.now());
    const page = (await last.client.get("/otp")).body;
    expect(page).toContain("could not be delivered");
    expect(page).not.toContain("is being sent");
  });

  it("reports older than two weeks no longer count: a mailbox full once a month ago and again for an afternoon is not undeliverable; a new run escalates on its own", async () => {
    // Its holder signs in with a passkey and confirms no code, so no confirmation restarts the count.
    const email = `full.stale.${database}@dealer.example`;
    const user = await addUser(t.deps, { email });
    await bounceEach(user, 1, 30 * DAY, (mail) => byWebhook(mail, "4.2.2", "452 4.2.2 Mailbox full"));
    await bounceEach(user, 4, HOUR, (mail) => byWebhook(mail, "4.2.2", "452 4.2.2 Mailbox full"));
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ softBounces: 5, undeliverableAt: null });

    // Full for three days since the afternoon: five reports of the new run, the first three days before the last.
    t.clock.advance(3 * DAY - 4 * HOUR);
    await byWebhook((await codeMail(user)).mail, "4.2.2", "452 4.2.2 Mailbox full");
    expect(await undeliverable(email)).toBe(t.clock.now());
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ mailboxFull: true });
  });

  it("reports within two weeks still count together: five over thirteen days escalate", async () => {
    const email = `full.slow.${database}@dealer.example`;
    const user = await addUser(t.deps, { email });
    await bounceEach(user, 4, 3 * DAY, (mail) => byWebhook(mail, "4.2.2", "452 4.2.2 Mailbox full"));
    t.clock.advance(DAY);
    expect(await undeliverable(email)).toBeNull();
    await byWebhook((await codeMail(user)).mail, "4.2.2", "452 4.2.2 Mailbox full");
    expect(await undeliverable(email)).toBe(t.clock.now());
  });

  it("soft bounces about the relay or the network never escalate, however long they go on", async () => {
    const email = `relay.soft.${database}@dealer.example`;
    const user = await addUser(t.deps, { email });
    await bounceEach(user, 6, DAY, (mail, day) =>
      day % 2 === 0 ? byListener(mail, "4.4.1", "451 4.4.1 No answer from host") : byWebhook(mail, "5.7.1", "550 5.7.1 Relaying denied"),
    );
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ softBounces: 6, undeliverableAt: null });
  });
});
