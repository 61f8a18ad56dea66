import { sql, type Kysely } from "kysely";
import { relayRefusalOf } from "../../mail/transport.ts";

// Frozen once released: later changes go in a new migration.
// The kind of a message's last failed try is stored as the sender records it (outbox.last_fault,
// src/mail/transport.ts mailFaultOf: "relaying", "login", "sender", "client", "unreachable",
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
  const relaying = rows.filter((row) => {
    const reply = ALL_RECIPIENTS_REJECTED.exec(row.last_error);
    return reply !== null && relayRefusalOf({ code: "EENVELOPE", command: "RCPT TO", responseCode: Number(reply[2]), response: reply[1] }) === "relaying";
  });
  for (let i = 0; i < relaying.length; i += 500) {
    await db.updateTable("outbox").set({ last_fault: "relaying" }).where("id", "in", relaying.slice(i, i + 500).map((r) => r.id)).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE outbox DROP COLUMN last_fault`.execute(db);
  await sql`ALTER TABLE mail_addresses DROP COLUMN mailbox_soft_since`.execute(db);
  await sql`ALTER TABLE mail_addresses DROP COLUMN mailbox_soft_bounces`.execute(db);
}
