import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// The kind of a message's last failed try is stored as the sender records it (outbox.last_fault,
// src/mail/smtp-replies.ts mailFaultOf: "relaying", "login", "sender", "client", "unreachable",
// "address"), beside its words (last_error). OTP capture's "notRelayed" read it back out of those
// words — nodemailer's text, "Can't send mail - all recipients were rejected: 554 5.7.1 … Relay access
// denied" — which a later nodemailer may word otherwise. Rows failed before this migration have only
// the words: read here, once, by the rule that made them (relayRefusalOf), and their kind stored.
// An address's soft bounces that speak of its mailbox (full, 4.2.2) are counted apart from the others,
// with when the first of them came (mail_addresses.mailbox_soft_bounces, mailbox_soft_since): enough of
// them over days count as a hard bounce (src/bounce/record-bounce.ts, softBounceSet). Counting starts
// with this migration: earlier soft bounces did not say which they were.

/** nodemailer's words for a refusal of the only recipient at RCPT TO, with the relay's reply. */
const ALL_RECIPIENTS_REJECTED = /^Can't send mail - all recipients were rejected: ((\d{3})\b[\s\S]*)$/;

// The rule's words as they were (src/mail/smtp-replies.ts, src/bounce/status.ts); see there for why each.
const ABOUT_THE_RELAY = /\brelay|authenticat|\bsender\b|\bclient host\b|\bspf\b|\bpolicy\b|\bblock(?:ed|list)|\bspam|\bgateway\b/i;
const REFUSES_FAMOS = /\brelay|authenticat|\bsender\b|\bclient host\b/i;
const REFUSES_TO_RELAY = /\bunable to relay\b|\brelay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)\b|\bnot (?:permitted|allowed) to relay\b|\bwe do not relay\b|\bcredentials for relay\b/i;
const ABOUT_THE_MAILBOX = /\b(?:user|mailbox|recipient|no such|unknown|(?:does )?not exist|unrouteable|unroutable|invalid|disabled|inactive|not found|not local)\b/i;

/**
 * Whether the stored words are a refusal to relay at RCPT TO (relayRefusalOf's "relaying" then): a 5yz
 * reply but 530 (FAMOS's login), that blames no address (5.1.x, 5.2.1; a bare 550/551/553 in the
 * mailbox's words only), that is not retried (5.2.2; 552 bare or 5.5.3), in words that refuse relaying
 * outright or refuse FAMOS and say nothing of a mailbox.
 */
export function refusedRelaying(lastError: string): boolean {
  const reply = ALL_RECIPIENTS_REJECTED.exec(lastError);
  if (reply === null) return false;
  const [response, code] = [reply[1]!, Number(reply[2])];
  if (code < 500 || code === 530) return false;
  const enhanced = /^5\d\d[ -](\d\.\d{1,3}\.\d{1,3})(?!\d)/.exec(response)?.[1];
  if (enhanced === undefined) {
    const bare = response.replace(/^\d{3}[ -]?/, "");
    if ([550, 551, 553].includes(code) && ABOUT_THE_MAILBOX.test(bare) && !ABOUT_THE_RELAY.test(bare)) return false;
  } else if (statusBlamedAddress(enhanced)) return false;
  if (enhanced === "5.2.2" || (code === 552 && (enhanced === undefined || enhanced === "5.5.3"))) return false;
  const words = response.replace(/^\d{3}[ -]?(?:\d\.\d{1,3}\.\d{1,3}(?!\d))?/, "");
  return REFUSES_TO_RELAY.test(words) || (REFUSES_FAMOS.test(words) && !ABOUT_THE_MAILBOX.test(words));
}

/** A refusal's enhanced status that blamed the recipient's address at RCPT TO (statusBlamesAddress, "rcpt"). */
function statusBlamedAddress(status: string): boolean {
  const match = /^5\.(\d{1,3})\.(\d{1,3})$/.exec(status);
  if (!match) return false;
  const [subject, detail] = [Number(match[1]), Number(match[2])];
  const aboutSomethingElse =
    subject === 1 ? detail === 7 || detail === 8
    : subject === 2 ? detail >= 2 && detail <= 4
    : subject === 3 ? detail >= 1
    : subject === 4 ? detail !== 0 && detail !== 4
    : subject === 5 || subject === 6 || subject === 7;
  return !aboutSomethingElse && (subject === 1 || (subject === 2 && detail === 1));
}

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
  await db.schema.alterTable("mail_addresses").addColumn("mailbox_soft_bounces", "integer", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("mail_addresses").addColumn("mailbox_soft_since", postgres ? "bigint" : "integer").execute();
  await db.schema.alterTable("outbox").addColumn("last_fault", "text").execute();
  const rows = (await db
    .selectFrom("outbox")
    .select(["id", "last_error"])
    .where("state", "in", ["queued", "sending", "failed"])
    .where("last_error", "like", "Can't send mail - all recipients were rejected: %")
    .execute()) as { id: string; last_error: string }[];
  const relaying = rows.filter((row) => refusedRelaying(row.last_error));
  for (let i = 0; i < relaying.length; i += 500) {
    await db.updateTable("outbox").set({ last_fault: "relaying" }).where("id", "in", relaying.slice(i, i + 500).map((r) => r.id)).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE outbox DROP COLUMN last_fault`.execute(db);
  await sql`ALTER TABLE mail_addresses DROP COLUMN mailbox_soft_since`.execute(db);
  await sql`ALTER TABLE mail_addresses DROP COLUMN mailbox_soft_bounces`.execute(db);
}
