import { sql, type ExpressionBuilder, type Kysely } from "kysely";
import type { Dialect } from "../store/database.ts";
import type { Database, FlowsTable, OutboxTable } from "../store/schema.ts";
import { randomId, type Random } from "../platform/random.ts";
import { preparedInsert, preparedQuery, preparedQueryFor } from "../store/prepared.ts";
import type { MailFault } from "./smtp-replies.ts";
import { leaverMail, leaverWithdrawal, WITHDRAWN_LEAVER } from "./leaver-mail.ts";
import { codeOf, SCRUBBED } from "./outbox-rows.ts";
import { storedWordsShown } from "../users/fields.ts";

export interface OutgoingMail {
  userId: string | null;
  kind: string;
  recipient: string;
  subject: string;
  text: string;
  html: string;
}

export type OutboxMessage = OutboxTable;

/** The outbox kind of a flow's code mail (src/otp/codes.ts writes it): a flow kind renamed renames it. */
export type CodeMailKind = `code.${FlowsTable["kind"]}`;

const HEADER_BREAK = /[\r\n]/;

/**
 * Writes a message to the outbox, normally inside the transaction that made the code, so a code
 * exists only if its mail will be sent. The Message-ID is fixed here: a resend after a crash
 * carries the same one (delivery is at least once).
 */
export async function enqueueMail(
  db: Kysely<Database>,
  now: number,
  random: Random,
  mailDomain: string,
  mail: OutgoingMail,
): Promise<string> {
  return (await writeMessage(db, now, random, mailDomain, mail, null)).id;
}

/**
 * Writes a message already claimed by this process's sender until `leaseUntil`, as a drain's claim
 * leaves it (state "sending", first attempt): the sender hands it to SMTP after the commit without
 * claiming it again (MailSender.sendClaimed; issue 17, one statement and one commit less per code).
 * No drain takes it before its lease runs out, so one that is never handed over (the process died)
 * is sent by any sender after that, as a message whose sender died mid-send always was.
 */
export async function enqueueClaimedMail(
  db: Kysely<Database>,
  now: number,
  random: Random,
  mailDomain: string,
  mail: OutgoingMail,
  leaseUntil: number,
): Promise<OutboxMessage> {
  return writeMessage(db, now, random, mailDomain, mail, leaseUntil);
}

async function writeMessage(
  db: Kysely<Database>,
  now: number,
  random: Random,
  mailDomain: string,
  mail: OutgoingMail,
  leaseUntil: number | null,
): Promise<OutboxMessage> {
  // RFC 5322 header fields are one line: a CR or LF here would let input add headers.
  if (HEADER_BREAK.test(mail.recipient) || HEADER_BREAK.test(mail.subject)) {
    throw new Error("mail header values must not contain CR or LF");
  }
  const id = randomId(random);
  const message: OutboxMessage = {
    id,
    user_id: mail.userId,
    kind: mail.kind,
    recipient: mail.recipient,
    subject: mail.subject,
    text_body: mail.text,
    html_body: mail.html,
    message_id: `<${id}@${mailDomain}>`,
    state: leaseUntil === null ? "queued" : "sending",
    attempts: leaseUntil === null ? 0 : 1,
    next_attempt_at: now,
    lease_until: leaseUntil,
    last_error: null,
    last_fault: null,
    created_at: now,
    sent_at: null,
    bounced_at: null,
    bounce_kind: null,
    bounce_reason: null,
    forward_counted_at: null,
  };
  await insertMessage(db, message);
  return message;
}

const insertMessage = preparedInsert("outbox", [
  "id", "user_id", "kind", "recipient", "subject", "text_body", "html_body", "message_id", "state", "attempts",
  "next_attempt_at", "lease_until", "last_error", "last_fault", "created_at", "sent_at", "bounced_at", "bounce_kind", "bounce_reason",
  "forward_counted_at",
]);

/**
 * Takes up to `limit` due messages and leases them to this sender until `now + leaseMs`. A
 * message whose lease ran out (its sender died mid-send) is due again. On PostgreSQL, SKIP LOCKED
 * lets several instances claim at once without taking the same message. Due code mails whose code
 * no longer works are withdrawn first (withdrawDeadCodeMail), and so is a leaver's due mail (leaver-mail.ts:
 * one a sender held at the disable, whose try failed after it), so none of them is claimed.
 */
export async function claimDueMail(
  db: Kysely<Database>,
  dialect: Dialect,
  now: number,
  leaseMs: number,
  limit: number,
  options: { scrub?: boolean } = {},
): Promise<OutboxMessage[]> {
  const postgres = dialect === "postgres";
  await withdrawDeadCodeMail({ postgres, scrub: options.scrub === true }, db, now);
  await withdrawDueLeavers({ postgres }, db, now);
  return (await claimStatement({ postgres, limit }, db, now, now + leaseMs)) as OutboxMessage[];
}

/*
 * The claim and the two withdrawals before it run at every poll of every sender (every 2 s, mail due
 * or not): compiled once per shape (issue 17: built and compiled by Kysely at each poll, code run too
 * rarely to be optimised, they cost ~1 ms of the event loop per poll). The limit is part of the shape
 * (a sender's batch, a handful of values; on SQLite written into the text, see prepared.ts).
 */
const claimStatement = preparedQueryFor((shape: { postgres: boolean; limit: number }, db, now: number, leaseUntil: number) => {
  let due = db.selectFrom("outbox").select("id").where((eb) => isDue(eb, now)).orderBy("next_attempt_at").limit(shape.limit);
  if (shape.postgres) due = due.forUpdate().skipLocked();
  return db
    .updateTable("outbox")
    .set({ state: "sending", lease_until: leaseUntil, attempts: sql`attempts + 1` })
    .where("id", "in", due)
    .returningAll();
});

const withdrawDueLeavers = preparedQueryFor((shape: { postgres: boolean }, db, now: number) => leaverWithdrawal(db, (eb) => isDue(eb, now), shape.postgres));

/** Queued and due, or claimed by a sender whose lease ran out (it died mid-send). */
const isDue = (eb: ExpressionBuilder<Database, "outbox">, now: number) =>
  eb.or([
    eb.and([eb("state", "=", "queued"), eb("next_attempt_at", "<=", now)]),
    eb.and([eb("state", "=", "sending"), eb("lease_until", "<", now)]),
  ]);

export const WITHDRAWN = "not sent: its code no longer works (replaced by a new code, used, cancelled or expired)";

/**
 * A code mail that waited for a retry (the relay was down, slow or greylisting) and whose code was
 * since voided (Regenerate OTP, Cancel, a reset), used, or has expired is failed without being sent:
 * sent late it would arrive beside, or after, the code that works — the newest mail in a shared
 * mailbox holding a dead code — and typing it costs a wrong try. A mail written with no code row is
 * not concerned.
 */
const withdrawDeadCodeMail = preparedQueryFor((shape: { postgres: boolean; scrub: boolean }, db, now: number) => {
  let dead = db
    .selectFrom("outbox")
    .select("outbox.id")
    .where((eb) => isDue(eb, now))
    .where((eb) => carriesDeadCode(eb, now));
  if (shape.postgres) dead = dead.forUpdate().skipLocked();
  return db
    .updateTable("outbox")
    .set(withdrawal(shape.scrub))
    .where("id", "in", dead);
});

/** What withdrawing a code mail writes: failed for good, why, and its bodies (the dead code) emptied. */
const withdrawal = (scrub: boolean | undefined) => ({ state: "failed" as const, lease_until: null, last_error: WITHDRAWN, last_fault: null, ...(scrub ? SCRUBBED : {}) });

/** The one rule for "this code mail's code no longer works" (voided, used or expired). */
const carriesDeadCode = (eb: ExpressionBuilder<Database, "outbox">, now: number) =>
  eb.exists(
    codeOf(eb)
      .select("codes.id")
      .where((c) => c.or([c("codes.voided_at", "is not", null), c("codes.consumed_at", "is not", null), c("codes.expires_at", "<=", now)])),
  );

/**
 * Code mail that never reached the relay and never will: withdrawn, or waiting for a retry (the relay
 * down) with its code dead, which the sender's next pass withdraws. Its code was never sent (SPEC
 * "Regenerate" counts codes sent: otp/codes.ts hourCap). Mail the relay refused is not this: it left.
 */
export const neverSent = (db: Kysely<Database>, now: number) =>
  db
    .selectFrom("outbox")
    .select("outbox.id")
    .where((eb) => eb.or([eb.and([eb("state", "=", "failed"), eb("last_error", "=", WITHDRAWN)]), eb.and([eb("state", "=", "queued"), carriesDeadCode(eb, now)])]));

/**
 * When a code mail's code expires, or null for mail without a code: the sender tries a code's mail
 * until then and no longer (MailSender's nextTry); past it, carriesDeadCode would withdraw it.
 */
export async function codeExpiry(db: Kysely<Database>, message: Pick<OutboxMessage, "id">): Promise<number | null> {
  const row = await db
    .selectFrom("outbox")
    .select((eb) => codeOf(eb).select("codes.expires_at").as("expires_at"))
    .where("outbox.id", "=", message.id)
    .executeTakeFirst();
  return row?.expires_at == null ? null : Number(row.expires_at);
}

/**
 * A claimed message that waited for an SMTP connection (a burst at a slow relay, a relay that answers
 * nobody) is asked both withdrawal rules again before it goes, in one statement, only while this claim
 * still holds it: its code replaced (Regenerate OTP), used, cancelled or expired meanwhile, after the
 * claim's own check (carriesDeadCode: failed as WITHDRAWN, bodies emptied when scrubbing, as
 * withdrawDeadCodeMail does), or its account disabled meanwhile, which left it to this claim, its lease
 * live (leaverMail: failed as WITHDRAWN_LEAVER, bodies emptied, as withdrawLeaverMail does). The two
 * rules never both hold (a leaver's rule is for mail without a code). "withdrawn" or "leaver": do not
 * send it; null: send it.
 */
export async function withdrawWaitingMail(
  db: Kysely<Database>,
  claim: Pick<OutboxMessage, "id" | "attempts">,
  now: number,
  options: { scrub?: boolean } = {},
): Promise<"withdrawn" | "leaver" | null> {
  const row = await db
    .updateTable("outbox")
    .set((eb) => {
      const dead = () => carriesDeadCode(eb, now);
      const kept = (body: "text_body" | "html_body") => eb.case().when(dead()).then(eb.ref(body)).else("").end();
      return {
        ...withdrawal(options.scrub),
        last_error: eb.case().when(dead()).then(WITHDRAWN).else(WITHDRAWN_LEAVER).end(),
        ...(options.scrub ? {} : { text_body: kept("text_body"), html_body: kept("html_body") }),
      };
    })
    .where("id", "=", claim.id)
    .where("attempts", "=", claim.attempts)
    .where("state", "=", "sending")
    .where((eb) => eb.or([carriesDeadCode(eb, now), leaverMail(eb)]))
    .returning("last_error")
    .executeTakeFirst();
  return row === undefined ? null : row.last_error === WITHDRAWN ? "withdrawn" : "leaver";
}

/**
 * The claim that sent a message records the outcome, and only while it still holds the message: a
 * sender that outlived its lease (another instance has taken the message again) changes nothing.
 * `attempts` was raised by the claim, so (id, attempts) names one claim. Returns false when lost.
 */
export async function markSent(
  db: Kysely<Database>,
  claim: Pick<OutboxMessage, "id" | "attempts">,
  now: number,
  options: { scrub?: boolean } = {},
): Promise<boolean> {
  const marked = await (options.scrub ? markSentScrubbed : markSentKept)(db, claim.id, claim.attempts, now);
  return marked.length === 1;
}

/** markSent's two shapes, each built once (issue 17: a code mail per sign-in). */
const markSentAs = (scrub: boolean) =>
  preparedQuery((db, id: string, attempts: number, now: number) =>
    db
      .updateTable("outbox")
      .set({ state: "sent", sent_at: now, lease_until: null, last_error: null, last_fault: null, ...(scrub ? SCRUBBED : {}) })
      .where("id", "=", id)
      .where("attempts", "=", attempts)
      .where("state", "=", "sending")
      .returning("id"),
  );
const markSentScrubbed = markSentAs(true);
const markSentKept = markSentAs(false);

/**
 * Extends the lease of a claim that is only now reaching the SMTP server (it waited for a connection):
 * its lease was counted from the claim, so without this a drain could take it as abandoned while it is
 * being sent and send it a second time. False when the claim was lost already (another sender took it).
 */
export async function renewLease(db: Kysely<Database>, claim: Pick<OutboxMessage, "id" | "attempts">, leaseUntil: number): Promise<boolean> {
  const result = await db
    .updateTable("outbox")
    .set({ lease_until: leaseUntil })
    .where("id", "=", claim.id)
    .where("attempts", "=", claim.attempts)
    .where("state", "=", "sending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Puts a message back in the queue for a later try, or marks it failed for good (`retryAt` null). */
export async function markAttemptFailed(
  db: Kysely<Database>,
  claim: Pick<OutboxMessage, "id" | "attempts">,
  error: string,
  retryAt: number | null,
  /** `fault`: the failure's kind (smtp-replies.ts mailFaultOf), stored beside its words, or none. */
  options: { scrub?: boolean; fault?: MailFault | null } = {},
): Promise<boolean> {
  const last = { last_error: error.slice(0, 500), last_fault: options.fault ?? null };
  const result = await db
    .updateTable("outbox")
    .set(
      retryAt === null
        ? { state: "failed", lease_until: null, ...last, ...(options.scrub ? SCRUBBED : {}) }
        : { state: "queued", next_attempt_at: retryAt, lease_until: null, ...last },
    )
    .where("id", "=", claim.id)
    .where("attempts", "=", claim.attempts)
    .where("state", "=", "sending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function findMail(db: Kysely<Database>, id: string): Promise<OutboxMessage | undefined> {
  return db.selectFrom("outbox").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function outboxDepth(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom("outbox")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("state", "in", ["queued", "sending"])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Mail written since `since` that no sender has handed to SMTP yet (queued, perhaps retried), with the
 * newest failure's words: what a `famos` command reports before it exits instead of saying it mailed.
 */
export async function unsentSince(db: Kysely<Database>, since: number): Promise<{ count: number; lastError: string | null }> {
  // A count and one row, in one statement: a command that queued thousands (an import's mails, an
  // announce) reads no more than one that queued one.
  const waiting = db.selectFrom("outbox").where("created_at", ">=", since).where("state", "=", "queued");
  const row = await waiting
    .select((eb) => [
      eb.fn.countAll<number | string>().as("count"),
      waiting.select("last_error").where("last_error", "is not", null).orderBy("next_attempt_at", "desc").limit(1).as("last_error"),
    ])
    .executeTakeFirstOrThrow();
  // The relay's words, stored as they came: hidden characters shown, as support reads them elsewhere.
  return { count: Number(row.count), lastError: storedWordsShown(row.last_error ?? null) };
}
