import type { Kysely } from "kysely";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { enqueueClaimedMail, enqueueMail } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS, MailSender } from "../../src/mail/sender.ts";
import { smtpTransport } from "../../src/mail/transport.ts";
import type { Database } from "../../src/store/schema.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import type { FixedClock } from "../../src/platform/clock.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";

const backoff = DEFAULT_SENDER_OPTIONS.backoffMs;

async function outboxRow(t: TestApp, recipient: string) {
  return t.deps.db.selectFrom("outbox").selectAll().where("recipient", "=", recipient).orderBy("created_at", "desc").executeTakeFirst();
}

/** Waits until the background sender has finished the attempt numbered `attempts` (not mid-send). */
function settled(t: TestApp, recipient: string, attempts: number) {
  return until(`attempt ${attempts} to ${recipient}`, async () => {
    const row = await outboxRow(t, recipient);
    return row && row.attempts === attempts && row.state !== "sending" ? row : undefined;
  });
}

async function metric(t: TestApp, name: string): Promise<number> {
  const text = await t.deps.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : Number.NaN;
}

describe("mail outbox worker", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());
  afterEach(() => {
    t.smtp.refuse(false);
    t.smtp.rejectPermanently(false);
  });

  it("retries with backoff while the SMTP server refuses, then delivers the code, which still works", async () => {
    const user = await addUser(t.deps);
    const email = user.otp_email!;
    t.smtp.refuse(true);
    const client = new FormClient(t.app);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");

    const first = await settled(t, email, 1);
    expect(first.state).toBe("queued");
    expect(first.last_error).toMatch(/451/);
    expect(first.next_attempt_at).toBe(t.clock.now() + backoff(1));
    // Tried and refused, waiting for its next try: the screen says so rather than "being sent".
    expect((await client.get("/otp")).body).toContain("The mail server has not taken the email for");

    // Not yet due: nothing happens.
    t.clock.advance(backoff(1) - 1);
    await t.services.sender.drain();
    expect((await outboxRow(t, email))!.attempts).toBe(1);

    t.clock.advance(1);
    await t.services.sender.drain();
    const second = await settled(t, email, 2);
    expect(second.next_attempt_at).toBe(t.clock.now() + backoff(2));

    t.smtp.refuse(false);
    const before = t.smtp.messages.length;
    t.clock.advance(backoff(2));
    await t.services.sender.drain();
    const code = await nextCode(t.smtp, email, before);
    // Sent: the bodies (which hold the code) are emptied; the codes table keeps only its hash.
    expect(await settled(t, email, 3)).toMatchObject({ state: "sent", text_body: "", html_body: "" });
    expect(t.smtp.messages.filter((m) => m.envelopeTo.includes(email))).toHaveLength(1);

    expect((await client.get("/otp")).body).toContain("We sent a code to");
    expect((await client.post("/otp", { code })).headers.location).toBe("/");
  });

  it("keeps codes queued while the SMTP server is down and delivers every one when it is back", async () => {
    const down = await startSmtpServer();
    const port = down.port;
    await down.stop();
    const local = await createTestApp();
    // The app's own sender mails its own test server; here a sender aimed at the stopped port does.
    await local.services.sender.stop();
    const sender = new MailSender({
      db: local.deps.db,
      dialect: local.deps.dialect,
      clock: local.clock,
      transport: smtpTransport(down.url),
      from: "FAMOS <no-reply@famos.test>",
      logger: pino({ level: "silent" }),
    });
    let up: TestSmtpServer | null = null;
    try {
      const users = await Promise.all([1, 2, 3].map(() => addUser(local.deps)));
      for (const user of users) expect((await submitPassword(new FormClient(local.app), user.login_id, user.password)).statusCode).toBe(303);
      await sender.drain();
      const rows = await local.deps.db.selectFrom("outbox").selectAll().execute();
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row).toMatchObject({ state: "queued", attempts: 1 });
      expect(rows[0]!.last_error).toMatch(/ECONNREFUSED|connect/i);

      up = await startSmtpServer({ port });
      local.clock.advance(backoff(1));
      await sender.drain();
      expect(up.messages.map((m) => m.envelopeTo[0]).sort()).toEqual(users.map((u) => u.otp_email).sort());
      const after = await local.deps.db.selectFrom("outbox").select(["state", "attempts"]).execute();
      expect(after).toEqual([1, 2, 3].map(() => ({ state: "sent", attempts: 2 })));
      await sender.stop();
    } finally {
      await up?.stop();
      await local.close().catch(() => undefined);
    }
  });

  it("marks the message failed after the last try; the OTP screen says so and Regenerate OTP recovers", async () => {
    const user = await addUser(t.deps);
    const email = user.otp_email!;
    t.smtp.refuse(true);
    const failedBefore = await metric(t, "famos_mail_failed_total");
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    // Tried for as long as the code works (MailSender's nextTry), each try when it is due.
    let row = await settled(t, email, 1);
    while (row.state === "queued") {
      t.clock.set(row.next_attempt_at);
      await t.services.sender.drain();
      row = await settled(t, email, row.attempts + 1);
    }
    expect(row).toMatchObject({ state: "failed", text_body: "", html_body: "" });
    expect(row.attempts).toBeGreaterThan(8);
    expect(await metric(t, "famos_mail_failed_total")).toBe(failedBefore + 1);

    const otp = await client.get("/otp");
    expect(otp.body).toContain("Sending the email failed. Use Regenerate OTP to send a new code.");

    t.smtp.refuse(false);
    const before = t.smtp.messages.length;
    const regenerated = await client.post("/otp/regenerate");
    expect(regenerated.headers.location).toBe("/otp?notice=sent");
    const code = await nextCode(t.smtp, email, before);
    expect((await client.get("/otp")).body).not.toContain("Sending the email failed");
    expect((await client.post("/otp", { code })).headers.location).toBe("/");
  });

  /** Sends the outbox's due retries, past every backoff, with the relay back: what was still waiting goes out now. */
  async function relayBack() {
    t.smtp.refuse(false);
    t.clock.advance(backoff(20));
    await t.services.sender.drain();
  }

  /** A user at OTP capture whose first code mail the relay, down, has refused once. */
  async function signedInWhileRelayDown() {
    const user = await addUser(t.deps);
    const email = user.otp_email!;
    t.smtp.refuse(true);
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    return { email, client, first: await settled(t, email, 1) };
  }

  it("a code replaced by Regenerate OTP while the relay was down is not mailed when it is back: only the code that works arrives", async () => {
    const { email, client, first } = await signedInWhileRelayDown();
    t.clock.advance(t.deps.config.otp.resendWaitMs);
    await client.get("/otp");
    expect((await client.post("/otp/regenerate")).headers.location).toBe("/otp?notice=sent");
    await settled(t, email, 1);

    const before = t.smtp.messages.length;
    await relayBack();
    const code = await nextCode(t.smtp, email, before);
    // The replaced code's mail would arrive beside (or after) the new one and only cost a wrong try.
    expect(t.smtp.messages.slice(before).filter((m) => m.envelopeTo.includes(email))).toHaveLength(1);
    expect(await t.deps.db.selectFrom("outbox").selectAll().where("id", "=", first.id).executeTakeFirst()).toMatchObject({
      state: "failed", text_body: "", html_body: "", last_error: expect.stringContaining("no longer works"),
    });
    expect((await client.post("/otp", { code })).headers.location).toBe("/");
  });

  it("a code that expired while the relay was down is not mailed when it is back; the OTP screen says it expired", async () => {
    const { email, client } = await signedInWhileRelayDown();
    t.clock.advance(t.deps.config.otp.ttlMs);

    const before = t.smtp.messages.length;
    await relayBack();
    expect(t.smtp.messages.slice(before).filter((m) => m.envelopeTo.includes(email))).toEqual([]);
    expect(await outboxRow(t, email)).toMatchObject({ state: "failed", text_body: "", html_body: "" });
    expect((await client.get("/otp")).body).toContain("This code has expired. Use Regenerate OTP to get a new one.");
  });

  /** A user at OTP capture whose code mail the SMTP server refused for good (after one try). */
  async function refusedAtOtp() {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    const row = await until("the permanent failure", async () => {
      const r = await outboxRow(t, user.otp_email!);
      return r?.state === "failed" ? r : undefined;
    });
    return { user, client, row };
  }

  it("a mailbox the SMTP server says does not exist (550 5.1.1 at RCPT TO) is a hard bounce: not retried, OTP capture says the address was refused, not to regenerate", async () => {
    t.smtp.rejectPermanently(true);
    const { user, client, row } = await refusedAtOtp();
    expect(row.attempts).toBe(1);
    expect(row.last_error).toMatch(/550 5\.1\.1/);
    expect(row.bounce_kind).toBe("hard");
    // Another code to the same address would be refused the same way: the page says to check it.
    const otp = (await client.get("/otp")).body;
    expect(otp).toContain("The email with your code could not be delivered to");
    expect(otp).toMatch(/could not be delivered[^]*<a href="\/wrong-email">Entered a wrong email\?<\/a>/);
    expect(otp).not.toContain("Sending the email failed");
    expect(JSON.parse((await client.get("/otp/delivery")).body)).toMatchObject({ pending: false, html: expect.stringContaining("could not be delivered") });
    // As a bounce report would: the address is undeliverable (support's "Needs attention"), audited once.
    expect(await addressProblems(t.deps.db, user.otp_email!)).toMatchObject({ undeliverableAt: expect.any(Number), undeliverableReason: expect.stringContaining("5.1.1 Mailbox does not exist") });
    const audit = await t.deps.db.selectFrom("audit").select(["actor", "detail"]).where("event", "=", "mail.bounced").where("subject", "=", user.login_id).execute();
    expect(audit.map((a) => [a.actor, JSON.parse(a.detail)])).toEqual([["bounce:smtp", expect.objectContaining({ bounce: "hard", status: "5.1.1", to: user.otp_email })]]);
  });

  it("a permanent refusal that is not about the address (550 5.7.1 delivery not authorized: one recipient's domain policy) fails the mail without blaming the address: Regenerate OTP is the advice", async () => {
    // "Relaying denied" is the relay's, not the message's: test/mail/relay-denies-relaying.test.ts.
    t.smtp.rejectPermanently(true, 550, "5.7.1 Delivery not authorized, message refused");
    const { user, client, row } = await refusedAtOtp();
    expect(row).toMatchObject({ attempts: 1, bounce_kind: null });
    expect((await client.get("/otp")).body).toContain("Sending the email failed. Use Regenerate OTP to send a new code.");
    expect(await addressProblems(t.deps.db, user.otp_email!)).toBeNull();
  });
});

describe.each(DIALECTS)("two senders on one %s outbox", (dialect) => {
  /** Two senders, as two instances, on one outbox holding `count` queued messages; everything closed after `body`. */
  async function withTwoSenders(
    name: string,
    count: number,
    body: (senders: MailSender[], ids: string[], smtp: TestSmtpServer, db: Kysely<Database>, clock: FixedClock) => Promise<void>,
  ) {
    const smtp = await startSmtpServer();
    const t = await openInstances(dialect, 2, `${name}_${dialect}`);
    const senders = t.stores.map(
      (store) =>
        new MailSender({ db: store.db, dialect: store.dialect, clock: t.clock, transport: smtpTransport(smtp.url), from: "FAMOS <no-reply@famos.test>" }),
    );
    try {
      const now = t.clock.now();
      const ids: string[] = [];
      for (let i = 0; i < count; i += 1) {
        ids.push(await enqueueMail(t.stores[0]!.db, now, cryptoRandom, "famos.test", { userId: null, kind: "test", recipient: `${name}${i}@dealer.example`, subject: `${name}${i}`, text: "t", html: "<p>h</p>" }));
      }
      await body(senders, ids, smtp, t.stores[1]!.db, t.clock);
    } finally {
      for (const sender of senders) await sender.stop();
      await t.close();
      await smtp.stop();
    }
  }

  it("send every message exactly once", async () => {
    await withTwoSenders("senders", 60, async (senders, _ids, smtp, db) => {
      await Promise.all([senders[0]!.drain(), senders[1]!.drain(), senders[0]!.drain(), senders[1]!.drain()]);
      expect(smtp.messages).toHaveLength(60);
      expect(new Set(smtp.messages.map((m) => m.messageId)).size).toBe(60);
      const states = await db.selectFrom("outbox").select("state").where("state", "!=", "sent").execute();
      expect(states).toEqual([]);
    });
  });

  /** A message written already claimed by `sender`, as a code's mail is (issue 17). */
  const writeClaimed = (db: Kysely<Database>, sender: MailSender, now: number, name: string) =>
    enqueueClaimedMail(db, now, cryptoRandom, "famos.test", { userId: null, kind: "test", recipient: `${name}@dealer.example`, subject: name, text: "t", html: "<p>h</p>" }, sender.leaseUntil(now)!);

  it("sends a message written claimed (sendClaimed) exactly once, and no drain of either sender takes it", async () => {
    await withTwoSenders("claimed", 0, async (senders, _ids, smtp, db, clock) => {
      for (const sender of senders) sender.start();
      const now = clock.now();
      const messages = [];
      for (let i = 0; i < 30; i += 1) messages.push(await writeClaimed(db, senders[0]!, now, `claimed${i}`));
      for (const message of messages) senders[0]!.sendClaimed(message);
      await Promise.all([senders[0]!.drain(), senders[1]!.drain()]);
      await until("every message to be sent", async () => (await db.selectFrom("outbox").select("id").where("state", "!=", "sent").execute()).length === 0);
      for (const sender of senders) await sender.stop();
      expect(smtp.messages).toHaveLength(30);
      expect(new Set(smtp.messages.map((m) => m.messageId)).size).toBe(30);
      // Written as the first attempt's claim: no second claim raised it.
      expect((await db.selectFrom("outbox").select("attempts").execute()).map((r) => r.attempts)).toEqual(messages.map(() => 1));
    });
  });

  it("puts a message written claimed back in the queue when its sender began to stop, and another sender sends it at once", async () => {
    await withTwoSenders("handed_back", 0, async (senders, _ids, smtp, db, clock) => {
      senders[0]!.start();
      const now = clock.now();
      const message = await writeClaimed(db, senders[0]!, now, "handed-back");
      await senders[0]!.stop();
      expect(senders[0]!.leaseUntil(now)).toBeNull();
      senders[0]!.sendClaimed(message);
      await until("the message back in the queue", async () => (await db.selectFrom("outbox").select("state").where("id", "=", message.id).executeTakeFirst())?.state === "queued");
      await senders[1]!.drain();
      expect(smtp.messages.map((m) => m.subject)).toEqual(["handed-back"]);
      expect(await db.selectFrom("outbox").select(["state", "attempts"]).where("id", "=", message.id).executeTakeFirst()).toEqual({ state: "sent", attempts: 2 });
    });
  });

  it("sends a message written claimed but never handed over (its process died) once its lease has run out", async () => {
    await withTwoSenders("never_handed", 0, async (senders, _ids, smtp, db, clock) => {
      senders[0]!.start();
      const now = clock.now();
      const message = await writeClaimed(db, senders[0]!, now, "never-handed");
      // The other instance's drain leaves it while the lease holds…
      await senders[1]!.drain();
      expect(smtp.messages).toEqual([]);
      // …and takes it once the lease has run out.
      clock.advance(message.lease_until! + 1 - now);
      const late = new MailSender({ db, dialect, clock, transport: smtpTransport(smtp.url), from: "FAMOS <no-reply@famos.test>" });
      try {
        await late.drain();
      } finally {
        await late.stop();
      }
      expect(smtp.messages.map((m) => m.subject)).toEqual(["never-handed"]);
      expect(await db.selectFrom("outbox").select(["state", "attempts"]).where("id", "=", message.id).executeTakeFirst()).toEqual({ state: "sent", attempts: 2 });
    });
  });
});
