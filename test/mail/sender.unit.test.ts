import type { Kysely } from "kysely";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { claimDueMail, enqueueClaimedMail, enqueueMail, findMail, type OutboxMessage, type OutgoingMail } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS, MailSender, type SenderOptions } from "../../src/mail/sender.ts";
import { smtpTransport, type MailTransport } from "../../src/mail/transport.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import type { Database } from "../../src/store/schema.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { migratedTestDatabase, type TestDatabase } from "../store/dialects.ts";

/**
 * The MailSender's rules over a real SQLite file (one per test) and the real in-process SMTP server,
 * with an injected clock: lease, retries with backoff, giving up, sendClaimed, and stopping. The
 * background poll never fires (pollMs far beyond a test): every pass is a drain the test asks for.
 * test/mail/outbox-worker.test.ts drives the same sender through the app over both dialects.
 */

const CODE = "482913";
const FROM = "FAMOS <no-reply@famos.test>";
const codeMail = (recipient: string): OutgoingMail => ({
  userId: "u-1",
  kind: "code.signin",
  recipient,
  subject: "Your FAMOS code",
  text: `Your code is ${CODE}.`,
  html: `<p>Your code is <b>${CODE}</b>.</p>`,
});

const OPTIONS: SenderOptions = {
  pollMs: 3_600_000,
  // Tries at 0, 10 s and 110 s; the next (1,110 s) would be past the window: the third is the last.
  retryWindowMs: 200_000,
  leaseMs: 60_000,
  batch: 2,
  backoffMs: (attempt) => 1000 * 10 ** attempt,
  scrubBodies: true,
};

let smtp: TestSmtpServer;
let database: TestDatabase;
let store: Store;
let db: Kysely<Database>;
let clock: FixedClock;
let logs: { msg: string; level: number; mail?: string; retryAt?: number | null; permanent?: boolean; err?: unknown }[];
let sent: [string, number][];
let failed: [string, boolean][];
let senders: MailSender[];

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => smtp.stop());

beforeEach(async () => {
  smtp.clear();
  smtp.refuse(false);
  smtp.rejectPermanently(false);
  smtp.delayData(0);
  database = await migratedTestDatabase("sqlite", "sender-unit");
  store = openStore(database.url);
  await migrateToLatest(store);
  db = store.db;
  clock = new FixedClock();
  logs = [];
  sent = [];
  failed = [];
  senders = [];
});

afterEach(async () => {
  for (const sender of senders) await sender.stop();
  await store.close();
  await database.drop();
});

function newSender(options: Partial<SenderOptions> = {}, transport: MailTransport = smtpTransport(smtp.url)): MailSender {
  const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const sender = new MailSender(
    {
      db,
      dialect: "sqlite",
      clock,
      transport,
      from: FROM,
      logger,
      onSent: (message, now) => void sent.push([message.id, now]),
      onFailed: (message, permanent) => void failed.push([message.id, permanent]),
    },
    { ...OPTIONS, ...options },
  );
  senders.push(sender);
  return sender;
}

const enqueue = (recipient = "dealer@dealer.example") => enqueueMail(db, clock.now(), cryptoRandom, "famos.test", codeMail(recipient));

async function row(id: string): Promise<OutboxMessage> {
  const found = await findMail(db, id);
  if (!found) throw new Error(`no outbox row ${id}`);
  return found;
}

const delivered = (recipient: string) => smtp.messages.filter((m) => m.envelopeTo.includes(recipient));

describe("DEFAULT_SENDER_OPTIONS", () => {
  it("poll every 2 s, lease 60 s, batch 8, mail without a code tried for 24 h, scrub, backoff doubling from 2 s up to a minute, 15 minutes past a message's first hour", () => {
    const { backoffMs, ...rest } = DEFAULT_SENDER_OPTIONS;
    expect(rest).toEqual({ pollMs: 2000, retryWindowMs: 86_400_000, leaseMs: 60_000, batch: 8, scrubBodies: true });
    expect([1, 2, 3, 4, 5, 6, 20].map((attempt) => backoffMs(attempt))).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect([backoffMs(20, 3_599_999), backoffMs(20, 3_600_000), backoffMs(2, 86_000_000)]).toEqual([60_000, 900_000, 900_000]);
  });
});

describe("MailSender.drain", () => {
  it("sends a due message once, with its Message-ID, records it sent, empties its bodies and reports it", async () => {
    const id = await enqueue();
    const sender = newSender();
    await sender.drain();
    const mail = delivered("dealer@dealer.example");
    expect(mail).toHaveLength(1);
    expect(mail[0]!.text).toContain(CODE);
    expect(mail[0]!.from).toContain("no-reply@famos.test");
    const after = await row(id);
    expect(mail[0]!.messageId).toBe(after.message_id);
    expect(after).toMatchObject({ state: "sent", attempts: 1, lease_until: null, text_body: "", html_body: "" });
    expect(sent).toEqual([[id, clock.now()]]);
    expect(logs.find((l) => l.msg === "mail sent")).toMatchObject({ mail: id, level: 30 });
    // Sent is sent: another drain sends nothing more.
    clock.advance(OPTIONS.leaseMs * 10);
    await sender.drain();
    expect(delivered("dealer@dealer.example")).toHaveLength(1);
  });

  it("keeps the bodies of a sent message when scrubbing is off (the development mailbox)", async () => {
    const id = await enqueue();
    await newSender({ scrubBodies: false }).drain();
    expect(await row(id)).toMatchObject({ state: "sent", text_body: expect.stringContaining(CODE), html_body: expect.stringContaining(CODE) });
  });

  it("sends everything due in one drain, batch after batch, and nothing not yet due", async () => {
    const recipients = [1, 2, 3, 4, 5].map((n) => `user${n}@dealer.example`);
    for (const recipient of recipients) await enqueue(recipient);
    clock.advance(1);
    const later = await enqueueMail(db, clock.now() + 1000, cryptoRandom, "famos.test", codeMail("later@dealer.example"));
    await newSender().drain();
    expect(smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual(recipients);
    expect((await row(later)).state).toBe("queued");
  });

  it("defers a refused message with backoff, does not retry it before it is due, and keeps its code until it gives up", async () => {
    smtp.refuse(true);
    const id = await enqueue();
    const sender = newSender();
    await sender.drain();
    const first = await row(id);
    expect(first).toMatchObject({ state: "queued", attempts: 1, next_attempt_at: clock.now() + 10_000, lease_until: null });
    expect(first.last_error).toMatch(/451/);
    expect(first.text_body).toContain(CODE);
    // At info, below what a famos command prints (warn): its closing line counts the mail left waiting.
    expect(logs.find((l) => l.msg === "mail deferred")).toMatchObject({ level: 30, mail: id, retryAt: clock.now() + 10_000, permanent: false });
    expect(failed).toEqual([]);

    clock.advance(10_000 - 1);
    await sender.drain();
    expect((await row(id)).attempts).toBe(1);

    clock.advance(1);
    await sender.drain();
    expect(await row(id)).toMatchObject({ state: "queued", attempts: 2, next_attempt_at: clock.now() + 100_000 });

    // The third attempt is the last (the next would be past retryWindowMs): failed for good, the code gone, reported once.
    clock.advance(100_000);
    await sender.drain();
    const last = await row(id);
    expect(last).toMatchObject({ state: "failed", attempts: 3, lease_until: null, text_body: "", html_body: "" });
    expect(last.last_error).toMatch(/451/);
    expect(failed).toEqual([[id, false]]);
    expect(logs.find((l) => l.msg === "mail failed")).toMatchObject({ mail: id, retryAt: null });
    clock.advance(10_000_000);
    await sender.drain();
    expect((await row(id)).attempts).toBe(3);
    expect(smtp.messages).toHaveLength(0);
  });

  it("fails a permanently rejected message at once (550), empties its bodies and reports it permanent", async () => {
    smtp.rejectPermanently(true);
    const id = await enqueue();
    await newSender().drain();
    const after = await row(id);
    expect(after).toMatchObject({ state: "failed", attempts: 1, text_body: "", html_body: "" });
    expect(after.last_error).toMatch(/550/);
    expect(failed).toEqual([[id, true]]);
  });

  it("keeps the bodies of a message failed for good when scrubbing is off", async () => {
    smtp.rejectPermanently(true);
    const id = await enqueue();
    await newSender({ scrubBodies: false }).drain();
    expect(await row(id)).toMatchObject({ state: "failed", text_body: expect.stringContaining(CODE) });
  });

  it("records a transport's non-Error failure as text, and retries it", async () => {
    const id = await enqueue();
    const throwing: MailTransport = { send: () => Promise.reject("line dropped"), close: () => undefined };
    await newSender({}, throwing).drain();
    expect(await row(id)).toMatchObject({ state: "queued", attempts: 1, last_error: "line dropped" });
  });

  it("loses no mail while the SMTP server is down: queued, then sent once it is back", async () => {
    const down = await startSmtpServer();
    const port = down.port;
    await down.stop();
    const id = await enqueue();
    const sender = newSender({}, smtpTransport(down.url));
    await sender.drain();
    const first = await row(id);
    expect(first).toMatchObject({ state: "queued", attempts: 1, text_body: expect.stringContaining(CODE) });
    expect(first.last_error).toMatch(/ECONNREFUSED|connect/i);
    const up = await startSmtpServer({ port });
    try {
      clock.advance(10_000);
      await sender.drain();
      expect(up.messages).toHaveLength(1);
      expect(await row(id)).toMatchObject({ state: "sent", attempts: 2 });
    } finally {
      await up.stop();
    }
  });

  it("a relay that cannot be reached: one message tries it, the rest wait untried; after the pause one tries again; once it answers everything due goes at once", async () => {
    const down = await startSmtpServer();
    const port = down.port;
    await down.stop();
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) ids.push(await enqueue(`p${i}@dealer.example`));
    const attempts = async () => (await Promise.all(ids.map(row))).reduce((sum, message) => sum + message.attempts, 0);
    const sender = newSender({}, smtpTransport(down.url));

    // The first claim (a batch) goes before anything is known of the relay; then the drain stops.
    await sender.drain();
    const first = OPTIONS.batch;
    expect(await attempts()).toBe(first);
    expect((await Promise.all(ids.map(row))).every((message) => message.state === "queued")).toBe(true);
    expect(logs.filter((line) => line.msg.startsWith("the mail relay cannot be reached"))).toHaveLength(1);
    clock.advance(OPTIONS.backoffMs(1) - 1);
    await sender.drain();
    expect(await attempts()).toBe(first);
    clock.advance(1);
    await sender.drain();
    expect(await attempts()).toBe(first + 1);
    // The second failure doubles the pause (the retry ladder); the outage is logged once.
    clock.advance(OPTIONS.backoffMs(2) - 1);
    await sender.drain();
    expect(await attempts()).toBe(first + 1);
    expect(logs.filter((line) => line.msg.startsWith("the mail relay cannot be reached"))).toHaveLength(1);

    const up = await startSmtpServer({ port });
    try {
      clock.advance(1);
      await sender.drain();
      expect(new Set(up.messages.map((m) => m.envelopeTo[0])).size).toBe(20);
      expect((await Promise.all(ids.map(row))).every((message) => message.state === "sent")).toBe(true);
      expect(logs.filter((line) => line.msg === "the mail relay can be reached again")).toHaveLength(1);
    } finally {
      await up.stop();
    }
  });

  it("a relay that answers, even with a refusal, is not paused: every due message is tried in the same drain", async () => {
    smtp.refuse(true);
    const ids = [await enqueue("a@dealer.example"), await enqueue("b@dealer.example"), await enqueue("c@dealer.example")];
    await newSender().drain();
    expect((await Promise.all(ids.map(row))).map((message) => message.attempts)).toEqual([1, 1, 1]);
    expect(logs.some((line) => line.msg.startsWith("the mail relay cannot be reached"))).toBe(false);
  });

  it("a slow SMTP server: the message is in hand, not lost, and sent once by whichever sender holds the lease", async () => {
    smtp.delayData(200);
    const ids = [await enqueue("a@dealer.example"), await enqueue("b@dealer.example"), await enqueue("c@dealer.example")];
    const one = newSender();
    const two = newSender();
    await Promise.all([one.drain(), two.drain(), one.drain()]);
    for (const recipient of ["a", "b", "c"]) expect(delivered(`${recipient}@dealer.example`)).toHaveLength(1);
    for (const id of ids) expect(await row(id)).toMatchObject({ state: "sent", attempts: 1 });
    expect(sent.map(([id]) => id).sort()).toEqual([...ids].sort());
  });

  it("does not take a message another sender holds until its lease runs out, then sends it", async () => {
    const id = await enqueue();
    // Another sender claimed it and died mid-send.
    const [claim] = await claimDueMail(db, "sqlite", clock.now(), OPTIONS.leaseMs, 10);
    expect(claim?.id).toBe(id);
    const sender = newSender();
    clock.advance(OPTIONS.leaseMs);
    await sender.drain();
    expect(smtp.messages).toHaveLength(0);
    clock.advance(1);
    await sender.drain();
    expect(delivered("dealer@dealer.example")).toHaveLength(1);
    expect(await row(id)).toMatchObject({ state: "sent", attempts: 2 });
  });

  /**
   * Claims the one queued message, lets its lease run out while another sender takes it again
   * (attempt 2), then hands the first, now lost, claim to a started sender and drains it.
   */
  async function sendLostClaim(): Promise<void> {
    const [claim] = await claimDueMail(db, "sqlite", clock.now(), OPTIONS.leaseMs, 10);
    clock.advance(OPTIONS.leaseMs + 1);
    await claimDueMail(db, "sqlite", clock.now(), OPTIONS.leaseMs, 10);
    const sender = newSender();
    sender.start();
    sender.sendClaimed(claim!);
    await sender.drain();
  }

  it("a send whose lease ran out meanwhile does not overwrite the new claim's outcome, and is not reported sent", async () => {
    const id = await enqueue();
    const [claim] = await claimDueMail(db, "sqlite", clock.now(), OPTIONS.leaseMs, 10);
    const sender = newSender();
    sender.start();
    smtp.delayData(Infinity);
    sender.sendClaimed(claim!);
    // At the relay when its lease runs out and another claim takes it.
    await vi.waitUntil(() => smtp.messages.length === 1, { timeout: 10_000 });
    clock.advance(OPTIONS.leaseMs + 1);
    await claimDueMail(db, "sqlite", clock.now(), OPTIONS.leaseMs, 10);
    smtp.delayData(0);
    await sender.drain();
    expect(delivered("dealer@dealer.example")).toHaveLength(1);
    expect(await row(id)).toMatchObject({ state: "sending", attempts: 2 });
    expect(sent).toEqual([]);
    expect(logs.find((l) => l.msg === "mail sent after its lease ran out; another sender may send it again")).toMatchObject({ mail: id });
  });

  it("a lost claim that fails for good is not reported failed", async () => {
    smtp.rejectPermanently(true);
    await enqueue();
    await sendLostClaim();
    expect(smtp.messages).toHaveLength(0);
    expect(failed).toEqual([]);
  });

  it("a send it cannot record (database gone after SMTP took it) is logged and sent again once the lease runs out: never lost", async () => {
    const id = await enqueue();
    const smtpOut = smtpTransport(smtp.url);
    let away = false;
    // The real SMTP transport; the database goes away between SMTP's answer and the record of it.
    const transport: MailTransport = {
      send: async (message, from) => {
        await smtpOut.send(message, from);
        if (!away) await db.schema.alterTable("outbox").renameTo("outbox_away").execute();
        away = true;
      },
      close: () => smtpOut.close(),
    };
    const sender = newSender({}, transport);
    await sender.drain();
    expect(logs.find((l) => l.msg === "could not record the outcome of a mail")).toMatchObject({ mail: id, level: 50 });
    expect(sent).toEqual([]);
    await db.schema.alterTable("outbox_away").renameTo("outbox").execute();
    expect(await row(id)).toMatchObject({ state: "sending", attempts: 1 });
    clock.advance(OPTIONS.leaseMs + 1);
    await sender.drain();
    expect(delivered("dealer@dealer.example")).toHaveLength(2);
    expect(new Set(delivered("dealer@dealer.example").map((m) => m.messageId)).size).toBe(1);
    expect(await row(id)).toMatchObject({ state: "sent", attempts: 2 });
  });

  it("leases no more than a batch at once: the rest stay queued, not leased, while the batch is at SMTP", async () => {
    smtp.delayData(200);
    const recipients = [1, 2, 3, 4, 5].map((n) => `held${n}@dealer.example`);
    for (const recipient of recipients) await enqueue(recipient);
    const sender = newSender({ batch: 2 });
    sender.start();
    // Two messages in hand at SMTP (stored, not yet answered): the batch is full.
    await smtp.waitForMessage(() => smtp.messages.length >= 2);
    const states = await db.selectFrom("outbox").select("state").execute();
    expect(states.filter((r) => r.state === "sending")).toHaveLength(2);
    expect(states.filter((r) => r.state === "queued")).toHaveLength(3);
    await sender.drain();
    expect(smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual(recipients);
  });

  it("drain waits for the background drain's send in hand, then looks once more for what fell due meanwhile", async () => {
    smtp.delayData(200);
    const first = await enqueue("first@dealer.example");
    const later = await enqueueMail(db, clock.now() + 1000, cryptoRandom, "famos.test", codeMail("later@dealer.example"));
    const sender = newSender();
    sender.start();
    await smtp.waitForMessage((m) => m.envelopeTo.includes("first@dealer.example"));
    // drain's first claim reads the clock now (nothing due: first is leased, later not yet due).
    const draining = sender.drain();
    clock.advance(1000);
    await draining;
    expect((await row(first)).state).toBe("sent");
    expect((await row(later)).state).toBe("sent");
    expect(delivered("later@dealer.example")).toHaveLength(1);
  });

  it("logs a database it cannot read and returns; a later drain sends the mail", async () => {
    const id = await enqueue();
    const sender = newSender();
    await db.schema.alterTable("outbox").renameTo("outbox_away").execute();
    await sender.drain();
    // The support engineer needs the cause, not only that the read failed.
    expect(logs.find((l) => l.msg === "could not read the mail outbox")).toMatchObject({ level: 50, err: { message: expect.stringContaining("outbox") } });
    await db.schema.alterTable("outbox_away").renameTo("outbox").execute();
    await sender.drain();
    expect((await row(id)).state).toBe("sent");
  });

  it("an outage is logged once, not at every poll, and its end once (a database down for a minute is 30 polls)", async () => {
    const sender = newSender();
    await db.schema.alterTable("outbox").renameTo("outbox_away").execute();
    for (let poll = 0; poll < 5; poll += 1) await sender.drain();
    expect(logs.filter((l) => l.msg === "could not read the mail outbox")).toHaveLength(1);
    await db.schema.alterTable("outbox_away").renameTo("outbox").execute();
    await sender.drain();
    await sender.drain();
    expect(logs.filter((l) => l.msg === "the mail outbox can be read again")).toMatchObject([{ level: 30 }]);
    await db.schema.alterTable("outbox").renameTo("outbox_away").execute();
    await sender.drain();
    expect(logs.filter((l) => l.msg === "could not read the mail outbox")).toHaveLength(2);
    await db.schema.alterTable("outbox_away").renameTo("outbox").execute();
  });
});

describe("MailSender.sendClaimed and leaseUntil", () => {
  it("leaseUntil: none before start and after stop, now + lease while running", async () => {
    const sender = newSender();
    expect(sender.leaseUntil(1000)).toBeNull();
    sender.start();
    expect(sender.leaseUntil(1000)).toBe(1000 + OPTIONS.leaseMs);
    await sender.stop();
    expect(sender.leaseUntil(1000)).toBeNull();
  });

  it("sends a message written already claimed, once: no drain takes it while it is in hand", async () => {
    const sender = newSender();
    sender.start();
    await sender.drain();
    const message = await enqueueClaimedMail(db, clock.now(), cryptoRandom, "famos.test", codeMail("claimed@dealer.example"), sender.leaseUntil(clock.now())!);
    smtp.delayData(100);
    sender.sendClaimed(message);
    const other = newSender();
    await Promise.all([other.drain(), sender.drain()]);
    expect(delivered("claimed@dealer.example")).toHaveLength(1);
    expect(await row(message.id)).toMatchObject({ state: "sent", attempts: 1, text_body: "" });
    expect(sent).toEqual([[message.id, clock.now()]]);
  });

  it("a burst of codes larger than the pool, at a slow relay: the last one waits for a connection without its lease running out, and is mailed once", async () => {
    const sender = newSender({ batch: 8 });
    sender.start();
    await sender.drain();
    smtp.delayData(Infinity);
    const now = clock.now();
    const burst = [];
    for (let i = 0; i < 9; i += 1) burst.push(await enqueueClaimedMail(db, now, cryptoRandom, "famos.test", codeMail(`burst${i}@dealer.example`), sender.leaseUntil(now)!));
    for (const message of burst) sender.sendClaimed(message);
    // Eight at the relay, which takes 40 s over them (inside the SMTP timeout); the ninth waits for a connection.
    await vi.waitUntil(() => smtp.messages.length === 8, { timeout: 10_000 });
    clock.advance(40_000);
    smtp.delayData(2000);
    await vi.waitUntil(() => smtp.messages.length === 9, { timeout: 10_000 });
    // The ninth has been at the relay for 30 s, 70 s after it was written: a drain must leave it alone.
    clock.advance(30_000);
    await newSender().drain();
    await sender.drain();
    expect(delivered("burst8@dealer.example")).toHaveLength(1);
    expect(await row(burst[8]!.id)).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("a stopped sender hands a claimed message back to the queue, due now, for any sender to send", async () => {
    const sender = newSender();
    sender.start();
    const message = await enqueueClaimedMail(db, clock.now(), cryptoRandom, "famos.test", codeMail("back@dealer.example"), clock.now() + OPTIONS.leaseMs);
    await sender.stop();
    sender.sendClaimed(message);
    await sender.drain();
    expect(smtp.messages).toHaveLength(0);
    const back = await row(message.id);
    expect(back).toMatchObject({ state: "queued", attempts: 1, next_attempt_at: clock.now(), lease_until: null, last_error: "not sent: the sender was stopping" });
    expect(back.text_body).toContain(CODE);
    await newSender().drain();
    expect(delivered("back@dealer.example")).toHaveLength(1);
  });

  it("a sender never started hands a claimed message back as well", async () => {
    const message = await enqueueClaimedMail(db, clock.now(), cryptoRandom, "famos.test", codeMail("idle@dealer.example"), clock.now() + OPTIONS.leaseMs);
    const sender = newSender();
    sender.sendClaimed(message);
    await sender.stop();
    expect(smtp.messages).toHaveLength(0);
    expect(await row(message.id)).toMatchObject({ state: "queued", next_attempt_at: clock.now() });
  });

  it("stop waits for a claimed message in hand at SMTP: it is sent and recorded, not half-sent", async () => {
    const sender = newSender();
    sender.start();
    await sender.drain();
    const message = await enqueueClaimedMail(db, clock.now(), cryptoRandom, "famos.test", codeMail("hand@dealer.example"), sender.leaseUntil(clock.now())!);
    smtp.delayData(100);
    sender.sendClaimed(message);
    await sender.stop();
    expect(await row(message.id)).toMatchObject({ state: "sent" });
    expect(delivered("hand@dealer.example")).toHaveLength(1);
  });

  it("a hand-back the database refuses is logged; the lease then lets a drain send it", async () => {
    const message = await enqueueClaimedMail(db, clock.now(), cryptoRandom, "famos.test", codeMail("lease@dealer.example"), clock.now() + OPTIONS.leaseMs);
    const sender = newSender();
    await db.schema.alterTable("outbox").renameTo("outbox_away").execute();
    sender.sendClaimed(message);
    await sender.drain();
    expect(logs.find((l) => l.msg === "could not put a mail back in the outbox")).toMatchObject({ mail: message.id, level: 50 });
    await db.schema.alterTable("outbox_away").renameTo("outbox").execute();
    clock.advance(OPTIONS.leaseMs + 1);
    await newSender().drain();
    expect(delivered("lease@dealer.example")).toHaveLength(1);
  });
});

describe("MailSender.start, wake and stop", () => {
  it("start sends what is due at once; a wake sends mail queued later; stop waits for the send in hand", async () => {
    const first = await enqueue("first@dealer.example");
    const sender = newSender();
    sender.start();
    await sender.stop();
    expect((await row(first)).state).toBe("sent");
    expect(delivered("first@dealer.example")).toHaveLength(1);
  });

  it("a wake while a drain is sending is not lost: the mail queued meanwhile is sent too", async () => {
    smtp.delayData(100);
    await enqueue("one@dealer.example");
    const sender = newSender({ batch: 1 });
    sender.start();
    await enqueue("two@dealer.example");
    sender.wake();
    await sender.drain();
    expect(delivered("one@dealer.example")).toHaveLength(1);
    expect(delivered("two@dealer.example")).toHaveLength(1);
  });

  it("a wake while a drain is sending, with room left in its batch, is sent by that background drain alone (no drain() after it)", async () => {
    smtp.delayData(100);
    await enqueue("one@dealer.example");
    const sender = newSender({ batch: 2 });
    sender.start();
    await smtp.waitForMessage((m) => m.envelopeTo.includes("one@dealer.example"));
    await enqueue("two@dealer.example");
    sender.wake();
    // Only the background drain can send it: a lost wake leaves it queued until the (hour-long) poll.
    await smtp.waitForMessage((m) => m.envelopeTo.includes("two@dealer.example"));
    expect(delivered("two@dealer.example")).toHaveLength(1);
  });

  it("drain right after a wake waits for the mail the background drain is claiming in that instant (a command's or a test's last step)", async () => {
    for (let round = 0; round < 20; round += 1) {
      smtp.clear();
      await enqueue(`round${round}@dealer.example`);
      const sender = newSender();
      sender.start();
      sender.wake();
      await sender.drain();
      expect(delivered(`round${round}@dealer.example`), `round ${round}`).toHaveLength(1);
      await sender.stop();
    }
  });

  it("a wake after the background drain has finished begins a new one (no drain() after it)", async () => {
    const sender = newSender();
    sender.start();
    // Nothing due: the background drain claims nothing and ends before this drain's own claim returns.
    await sender.drain();
    await enqueue("late@dealer.example");
    sender.wake();
    await smtp.waitForMessage((m) => m.envelopeTo.includes("late@dealer.example"));
    await sender.stop();
    expect(delivered("late@dealer.example")).toHaveLength(1);
  });

  it("a sender never started (startSender: false) claims nothing on a wake: the mail stays queued until someone drains or starts it", async () => {
    const sender = newSender();
    const id = await enqueue();
    sender.wake();
    await sender.stop();
    expect(await row(id)).toMatchObject({ state: "queued", attempts: 0 });
    expect(smtp.messages).toHaveLength(0);
  });

  it("drainQueued (a command's last step): nothing queued by this process, nothing claimed, even with mail due; after a wake, everything due is sent", async () => {
    const earlier = await enqueue("earlier@dealer.example");
    const sender = newSender();
    await sender.drainQueued();
    expect(await row(earlier)).toMatchObject({ state: "queued", attempts: 0 });
    expect(smtp.messages).toHaveLength(0);
    const id = await enqueue();
    sender.wake();
    await sender.drainQueued();
    expect(await row(id)).toMatchObject({ state: "sent", attempts: 1 });
    expect(await row(earlier)).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("drainQueued after a message handed over claimed waits for it (a never-started sender hands it back, then sends it)", async () => {
    const sender = newSender();
    const claimed = await enqueueClaimedMail(db, clock.now(), cryptoRandom, "famos.test", codeMail("claimed@dealer.example"), clock.now() + OPTIONS.leaseMs);
    sender.sendClaimed(claimed);
    await sender.drainQueued();
    expect(delivered("claimed@dealer.example")).toHaveLength(1);
  });

  it("a stopped sender's wake claims nothing: the mail stays queued for another sender", async () => {
    const sender = newSender();
    sender.start();
    await sender.stop();
    const id = await enqueue();
    sender.wake();
    await sender.stop();
    expect(await row(id)).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("stop claims no more: mail queued while it waits for the send in hand stays queued, attempt 0", async () => {
    smtp.delayData(100);
    await enqueue("busy@dealer.example");
    const sender = newSender({ batch: 1 });
    sender.start();
    const waiting = sender.stop();
    const id = await enqueue("after@dealer.example");
    sender.wake();
    await waiting;
    expect(delivered("busy@dealer.example")).toHaveLength(1);
    expect(await row(id)).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("polls every pollMs for mail nobody woke it for (a retry, another instance's mail), and no more once stopped", async () => {
    // Only the poll's interval is faked; SMTP and SQLite run on real time.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const early = newSender({ pollMs: 5000 });
      early.start();
      await early.drain();
      const id = await enqueue("polled@dealer.example");
      vi.advanceTimersByTime(4999);
      await early.stop();
      expect(await row(id)).toMatchObject({ state: "queued", attempts: 0 });
      expect(vi.getTimerCount()).toBe(0);

      const polling = newSender({ pollMs: 5000 });
      polling.start();
      await polling.drain();
      expect(vi.getTimerCount()).toBe(1);
      const later = await enqueue("later@dealer.example");
      vi.advanceTimersByTime(5000);
      // stop claims nothing itself: it waits for the drain the poll began.
      await polling.stop();
      expect((await row(later)).state).toBe("sent");
      expect(delivered("later@dealer.example")).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
