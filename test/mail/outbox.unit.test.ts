import type { Kysely, KyselyPlugin } from "kysely";
import { describe, expect, it } from "vitest";
import {
  claimDueMail,
  enqueueClaimedMail,
  enqueueMail,
  findMail,
  markAttemptFailed,
  markSent,
  outboxDepth,
  unsentSince,
  type OutboxMessage,
  type OutgoingMail,
} from "../../src/mail/outbox.ts";
import { userMailDeliveries } from "../../src/mail/deliveries.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import type { Database } from "../../src/store/schema.ts";
import { useStorePerTest } from "../support/unit-store.ts";

/**
 * The outbox's own rules, function by function, over a real SQLite file (the sender and SMTP are
 * test/mail/outbox-worker.test.ts's concern). Each test has a database of its own: markSent's
 * statements are prepared once per store, so a test that shares one would not see their shape.
 */

const LEASE = 60_000;
const CODE = "482913";
const codeMail = (over: Partial<OutgoingMail> = {}): OutgoingMail => ({
  userId: "u-1",
  kind: "code.signin",
  recipient: "dealer@dealer.example",
  subject: "Your FAMOS code",
  text: `Your code is ${CODE}.\nIt works for 15 minutes.`,
  html: `<p>Your code is <b>${CODE}</b>.</p>`,
  ...over,
});

const fresh = useStorePerTest("outbox-unit");

async function row(id: string): Promise<OutboxMessage> {
  const found = await findMail(fresh.db, id);
  if (!found) throw new Error(`no outbox row ${id}`);
  return found;
}

/** Queues a code mail and claims it as a sender's drain would: the claim that may record its outcome. */
async function queuedAndClaimed(mail = codeMail()): Promise<OutboxMessage> {
  const id = await enqueueMail(fresh.db, fresh.clock.now(), cryptoRandom, "famos.test", mail);
  const [claim] = await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 10);
  expect(claim?.id).toBe(id);
  return claim!;
}

/** No column of the row holds the code any more (SPEC "Codes": the database keeps only its hash). */
function holdsNoCode(message: OutboxMessage): void {
  expect(message).toMatchObject({ text_body: "", html_body: "" });
  expect(JSON.stringify(message)).not.toContain(CODE);
}

describe("enqueueMail and enqueueClaimedMail", () => {
  it("queue a message due now, not yet tried, with a Message-ID of its own id and the mail domain", async () => {
    const now = fresh.clock.now();
    const id = await enqueueMail(fresh.db, now, cryptoRandom, "famos.test", codeMail());
    expect(await row(id)).toEqual({
      id,
      user_id: "u-1",
      kind: "code.signin",
      recipient: "dealer@dealer.example",
      subject: "Your FAMOS code",
      text_body: codeMail().text,
      html_body: codeMail().html,
      message_id: `<${id}@famos.test>`,
      state: "queued",
      attempts: 0,
      next_attempt_at: now,
      lease_until: null,
      last_error: null,
      last_fault: null,
      created_at: now,
      sent_at: null,
      bounced_at: null,
      bounce_kind: null,
      bounce_reason: null,
      forward_counted_at: null,
    });
    expect(await outboxDepth(fresh.db)).toBe(1);
  });

  it("write a message claimed by this sender until the lease given, as its first attempt, and return the row as stored", async () => {
    const now = fresh.clock.now();
    const written = await enqueueClaimedMail(fresh.db, now, cryptoRandom, "famos.test", codeMail({ userId: null }), now + LEASE);
    expect(written).toMatchObject({ user_id: null, state: "sending", attempts: 1, lease_until: now + LEASE, next_attempt_at: now, created_at: now });
    expect(written.message_id).toBe(`<${written.id}@famos.test>`);
    expect(await row(written.id)).toEqual(written);
    // No drain takes it while the lease holds, including at its last millisecond.
    expect(await claimDueMail(fresh.db, "sqlite", now + LEASE, LEASE, 10)).toEqual([]);
  });

  it("ASVS 5.2.3: refuse a recipient or subject with a CR or an LF, alone or together, and store nothing", async () => {
    const now = fresh.clock.now();
    const bad: Partial<OutgoingMail>[] = [
      { recipient: "dealer@dealer.example\r" },
      { recipient: "dealer@dealer.example\nBcc: all@dealer.example" },
      { subject: "Your code\r" },
      { subject: "Your code\nBcc: all@dealer.example" },
      { subject: "Your code\r\nBcc: all@dealer.example" },
    ];
    for (const over of bad) {
      await expect(enqueueMail(fresh.db, now, cryptoRandom, "famos.test", codeMail(over))).rejects.toThrow("mail header values must not contain CR or LF");
      await expect(enqueueClaimedMail(fresh.db, now, cryptoRandom, "famos.test", codeMail(over), now + LEASE)).rejects.toThrow(/CR or LF/);
    }
    expect(await fresh.db.selectFrom("outbox").select("id").execute()).toEqual([]);
    // The bodies are not headers: their line breaks are the mail's own.
    await expect(enqueueMail(fresh.db, now, cryptoRandom, "famos.test", codeMail())).resolves.toMatch(/\S/);
  });
});

describe("claimDueMail", () => {
  it("takes the queued messages that are due, from the longest due, up to the limit, and leases them", async () => {
    const now = fresh.clock.now();
    const mail = (n: number, at: number) => enqueueMail(fresh.db, at, cryptoRandom, "famos.test", codeMail({ recipient: `r${n}@dealer.example` }));
    const later = await mail(1, now - 1000);
    const earliest = await mail(2, now - 3000);
    const dueNow = await mail(3, now);
    const notYet = await mail(4, now + 1);

    const claimed = await claimDueMail(fresh.db, "sqlite", now, LEASE, 2);
    expect(claimed.map((m) => m.id).sort()).toEqual([earliest, later].sort());
    for (const message of claimed) {
      expect(message).toMatchObject({ state: "sending", attempts: 1, lease_until: now + LEASE });
      // The whole row: the sender needs its bodies and Message-ID.
      expect(message).toEqual(await row(message.id));
    }
    expect((await claimDueMail(fresh.db, "sqlite", now, LEASE, 10)).map((m) => m.id)).toEqual([dueNow]);
    expect(await claimDueMail(fresh.db, "sqlite", now, LEASE, 10)).toEqual([]);
    expect(await row(notYet)).toMatchObject({ state: "queued", attempts: 0, lease_until: null });
    expect(await outboxDepth(fresh.db)).toBe(4); // three sending, one queued
  });

  it("takes a message again only once its lease has run out (its sender died), as a new attempt", async () => {
    const first = await queuedAndClaimed();
    const leaseEnd = first.lease_until!;
    expect(await claimDueMail(fresh.db, "sqlite", leaseEnd - 1, LEASE, 10)).toEqual([]);
    expect(await claimDueMail(fresh.db, "sqlite", leaseEnd, LEASE, 10)).toEqual([]);
    const [second] = await claimDueMail(fresh.db, "sqlite", leaseEnd + 1, LEASE, 10);
    expect(second).toMatchObject({ id: first.id, attempts: 2, state: "sending", lease_until: leaseEnd + 1 + LEASE, message_id: first.message_id });
  });

  it("never takes a message that was sent or failed for good, however long ago it was due", async () => {
    const sent = await queuedAndClaimed();
    expect(await markSent(fresh.db, sent, fresh.clock.now())).toBe(true);
    const failed = await queuedAndClaimed(codeMail({ recipient: "gone@dealer.example" }));
    expect(await markAttemptFailed(fresh.db, failed, "550 no such user", null)).toBe(true);

    const muchLater = fresh.clock.now() + 365 * 24 * 3600_000;
    expect(await claimDueMail(fresh.db, "sqlite", muchLater, LEASE, 10)).toEqual([]);
    expect(await outboxDepth(fresh.db)).toBe(0);
  });
});

describe("markSent", () => {
  it("records the send by the claim that holds the message and empties a code mail's bodies (scrub)", async () => {
    const claim = await queuedAndClaimed();
    fresh.clock.advance(1500);
    expect(await markSent(fresh.db, claim, fresh.clock.now(), { scrub: true })).toBe(true);
    const sent = await row(claim.id);
    expect(sent).toMatchObject({ state: "sent", sent_at: fresh.clock.now(), lease_until: null, last_error: null, attempts: 1 });
    holdsNoCode(sent);
    expect(sent).toMatchObject({ recipient: claim.recipient, subject: claim.subject, message_id: claim.message_id });
  });

  it("keeps the bodies without scrub (the development mailbox) and clears the error of an earlier try", async () => {
    const first = await queuedAndClaimed();
    expect(await markAttemptFailed(fresh.db, first, "451 try later", fresh.clock.now())).toBe(true);
    const [second] = await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 10);
    expect(await markSent(fresh.db, second!, fresh.clock.now())).toBe(true);
    expect(await row(first.id)).toMatchObject({ state: "sent", attempts: 2, last_error: null, text_body: codeMail().text, html_body: codeMail().html });
  });

  it("changes nothing for a sender that lost its lease: another claim holds the message (attempts)", async () => {
    const late = await queuedAndClaimed();
    const [current] = await claimDueMail(fresh.db, "sqlite", late.lease_until! + 1, LEASE, 10);
    const before = await row(late.id);

    expect(await markSent(fresh.db, late, fresh.clock.now(), { scrub: true })).toBe(false);
    expect(await row(late.id)).toEqual(before);
    expect(await markSent(fresh.db, current!, fresh.clock.now(), { scrub: true })).toBe(true);
  });

  it("changes nothing for a claim whose message is no longer being sent (state)", async () => {
    // Its own attempt already put back in the queue: a send recorded now would hide the retry.
    const retried = await queuedAndClaimed();
    expect(await markAttemptFailed(fresh.db, retried, "451 try later", fresh.clock.now() + 2000)).toBe(true);
    const queued = await row(retried.id);
    expect(await markSent(fresh.db, retried, fresh.clock.now(), { scrub: true })).toBe(false);
    expect(await row(retried.id)).toEqual(queued);

    // Recorded sent once: a second report neither moves its time nor counts twice.
    const claim = await queuedAndClaimed(codeMail({ recipient: "other@dealer.example" }));
    expect(await markSent(fresh.db, claim, fresh.clock.now())).toBe(true);
    const sent = await row(claim.id);
    expect(await markSent(fresh.db, claim, fresh.clock.now() + 5000, { scrub: true })).toBe(false);
    expect(await row(claim.id)).toEqual(sent);
  });
});

describe("markAttemptFailed", () => {
  it("puts a message back in the queue for its retry, bodies kept (it is still to be sent), scrub or not", async () => {
    const claim = await queuedAndClaimed();
    const retryAt = fresh.clock.now() + 4000;
    expect(await markAttemptFailed(fresh.db, claim, "451 4.7.1 greylisted", retryAt, { scrub: true })).toBe(true);
    expect(await row(claim.id)).toMatchObject({
      state: "queued",
      attempts: 1,
      next_attempt_at: retryAt,
      lease_until: null,
      last_error: "451 4.7.1 greylisted",
      text_body: codeMail().text,
      html_body: codeMail().html,
    });
    expect(await claimDueMail(fresh.db, "sqlite", retryAt - 1, LEASE, 10)).toEqual([]);
    expect(await claimDueMail(fresh.db, "sqlite", retryAt, LEASE, 10)).toMatchObject([{ id: claim.id, attempts: 2 }]);
  });

  it("marks a message failed for good and empties a code mail's bodies (scrub); without scrub it keeps them", async () => {
    const claim = await queuedAndClaimed();
    expect(await markAttemptFailed(fresh.db, claim, "550 5.1.1 no such user", null, { scrub: true })).toBe(true);
    const failed = await row(claim.id);
    expect(failed).toMatchObject({ state: "failed", attempts: 1, next_attempt_at: claim.next_attempt_at, lease_until: null, last_error: "550 5.1.1 no such user", sent_at: null });
    holdsNoCode(failed);

    const kept = await queuedAndClaimed(codeMail({ recipient: "kept@dealer.example" }));
    expect(await markAttemptFailed(fresh.db, kept, "550 5.1.1 no such user", null)).toBe(true);
    expect(await row(kept.id)).toMatchObject({ state: "failed", text_body: codeMail().text, html_body: codeMail().html });
  });

  it("keeps the first 500 characters of the error, on a retry and on a final failure", async () => {
    const error = `451 ${"x".repeat(600)}`;
    const retried = await queuedAndClaimed();
    expect(await markAttemptFailed(fresh.db, retried, error, fresh.clock.now() + 2000)).toBe(true);
    expect((await row(retried.id)).last_error).toBe(error.slice(0, 500));
    const failed = await queuedAndClaimed(codeMail({ recipient: "other@dealer.example" }));
    expect(await markAttemptFailed(fresh.db, failed, error, null)).toBe(true);
    expect((await row(failed.id)).last_error).toBe(error.slice(0, 500));
  });

  it("changes nothing for a sender that lost its lease, nor for a message already sent", async () => {
    const late = await queuedAndClaimed();
    const [current] = await claimDueMail(fresh.db, "sqlite", late.lease_until! + 1, LEASE, 10);
    const leased = await row(late.id);
    expect(await markAttemptFailed(fresh.db, late, "timeout", null, { scrub: true })).toBe(false);
    expect(await markAttemptFailed(fresh.db, late, "timeout", fresh.clock.now())).toBe(false);
    expect(await row(late.id)).toEqual(leased);

    // The current claim sent it; a failure reported afterwards by that claim does not undo the send.
    expect(await markSent(fresh.db, current!, fresh.clock.now())).toBe(true);
    const sent = await row(late.id);
    expect(await markAttemptFailed(fresh.db, current!, "connection reset", null, { scrub: true })).toBe(false);
    expect(await markAttemptFailed(fresh.db, current!, "connection reset", fresh.clock.now())).toBe(false);
    expect(await row(late.id)).toEqual(sent);
  });
});

describe("findMail, outboxDepth and userMailDeliveries", () => {
  it("finds a message by id, and nothing for an unknown one", async () => {
    const id = await enqueueMail(fresh.db, fresh.clock.now(), cryptoRandom, "famos.test", codeMail());
    expect((await findMail(fresh.db, id))?.id).toBe(id);
    expect(await findMail(fresh.db, "no-such-id")).toBeUndefined();
  });

  it("counts as depth the messages queued or being sent, not those sent or failed", async () => {
    expect(await outboxDepth(fresh.db)).toBe(0);
    await enqueueMail(fresh.db, fresh.clock.now(), cryptoRandom, "famos.test", codeMail({ recipient: "a@dealer.example" }));
    await enqueueClaimedMail(fresh.db, fresh.clock.now(), cryptoRandom, "famos.test", codeMail({ recipient: "b@dealer.example" }), fresh.clock.now() + LEASE);
    expect(await outboxDepth(fresh.db)).toBe(2);
    const [claim] = await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 10);
    expect(await markSent(fresh.db, claim!, fresh.clock.now())).toBe(true);
    expect(await outboxDepth(fresh.db)).toBe(1);
  });

  it("lists a user's messages newest first (ties by id), at most 20 unless told, with no body", async () => {
    const start = fresh.clock.now();
    for (let i = 0; i < 22; i += 1) {
      await enqueueMail(fresh.db, start + Math.floor(i / 2) * 1000, cryptoRandom, "famos.test", codeMail({ recipient: `r${i}@dealer.example` }));
    }
    await enqueueMail(fresh.db, start + 60_000, cryptoRandom, "famos.test", codeMail({ userId: "u-2", recipient: "someone@else.example" }));
    const stored = await fresh.db.selectFrom("outbox").selectAll().where("user_id", "=", "u-1").execute();
    const expected = [...stored].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

    const listed = await userMailDeliveries(fresh.db, "u-1");
    expect(listed.map((d) => d.id)).toEqual(expected.slice(0, 20).map((m) => m.id));
    expect((await userMailDeliveries(fresh.db, "u-1", 3)).map((d) => d.id)).toEqual(expected.slice(0, 3).map((m) => m.id));
    expect(await userMailDeliveries(fresh.db, "u-3")).toEqual([]);
  });

  it("shows support each delivery's state, tries, times, last error and Message-ID", async () => {
    const start = fresh.clock.now();
    const claim = await queuedAndClaimed(codeMail({ userId: "u-4" }));
    expect(await markAttemptFailed(fresh.db, claim, "451 try later", start + 9000)).toBe(true);
    const [second] = await claimDueMail(fresh.db, "sqlite", start + 9000, LEASE, 10);
    expect(await markSent(fresh.db, second!, start + 9500)).toBe(true);
    expect(await userMailDeliveries(fresh.db, "u-4")).toEqual([
      {
        id: claim.id,
        kind: "code.signin",
        recipient: "dealer@dealer.example",
        state: "sent",
        attempts: 2,
        createdAt: start,
        sentAt: start + 9500,
        nextAttemptAt: start + 9000,
        lastError: null,
        messageId: claim.message_id,
      },
    ]);
  });
});

describe.each(["sqlite", "postgres"] as const)("unsentSince (%s)", (dialect) => {
  // Its own database of this dialect, in place of the file's SQLite one.
  const own = useStorePerTest("outbox-unsent", dialect);

  /** The same database, counting the rows each statement hands back to JavaScript. */
  function counting(): { db: Kysely<Database>; rowsRead: () => number } {
    let rows = 0;
    const plugin: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        rows += args.result.rows.length;
        return args.result;
      },
    };
    return { db: own.db.withPlugin(plugin), rowsRead: () => rows };
  }

  it("counts the mail queued since a time and gives the failure of the one due last, reading one row, not every queued one", async () => {
    const since = fresh.clock.now();
    await enqueueMail(own.db, since - 1, cryptoRandom, "famos.test", codeMail({ recipient: "before@dealer.example" }));
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await enqueueMail(own.db, since + i, cryptoRandom, "famos.test", codeMail({ recipient: `r${i}@dealer.example` })));
    const retry = (id: string, error: string, due: number) => own.db.updateTable("outbox").set({ last_error: error, next_attempt_at: due, attempts: 1 }).where("id", "=", id).execute();
    await retry(ids[3]!, "421 try later", since + 5_000);
    await retry(ids[7]!, "connect ECONNREFUSED", since + 9_000);
    await own.db.updateTable("outbox").set({ state: "sent", sent_at: since }).where("id", "=", ids[0]!).execute();
    // Due last, but with no failure of its own: the newest failure's words are still told.
    await own.db.updateTable("outbox").set({ next_attempt_at: since + 20_000 }).where("id", "=", ids[1]!).execute();

    const { db: watched, rowsRead } = counting();
    expect(await unsentSince(watched, since)).toEqual({ count: 39, lastError: "connect ECONNREFUSED" });
    expect(rowsRead()).toBeLessThanOrEqual(2);
  });

  // The relay's words come from outside, stored as they came: the command prints them with hidden
  // characters shown (storedWordsShown), as support reads them elsewhere.
  it("gives the failure's hidden characters shown", async () => {
    const since = fresh.clock.now();
    const id = await enqueueMail(own.db, since, cryptoRandom, "famos.test", codeMail());
    await own.db.updateTable("outbox").set({ last_error: "421 try\u202e later\u200b", next_attempt_at: since + 1_000, attempts: 1 }).where("id", "=", id).execute();
    expect(await unsentSince(own.db, since)).toEqual({ count: 1, lastError: "421 try\ufffd later\ufffd" });
  });

  it("says 0 and no failure when nothing is waiting", async () => {
    const since = fresh.clock.now();
    await enqueueMail(own.db, since, cryptoRandom, "famos.test", codeMail());
    expect(await unsentSince(own.db, since + 1)).toEqual({ count: 0, lastError: null });
    expect(await unsentSince(own.db, since)).toEqual({ count: 1, lastError: null });
  });
});
