import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// mail_addresses.forward_bounces: the hard bounces of forwards of different messages mailed to the address
// (a report naming another Final-Recipient: src/bounce/forward-reports.ts forwardOf) since a code sent to it was
// last confirmed (addresses.ts markAddressWorking sets it to 0). FORWARD_BOUNCES of them mark the address
// undeliverable (forwardBounceSet): a one-person alias to a deleted mailbox confirms no code, a shared desk's
// colleagues do. Counting starts with this migration: the forward reports before it were not counted.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("mail_addresses").addColumn("forward_bounces", "integer", (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("mail_addresses").dropColumn("forward_bounces").execute();
}
