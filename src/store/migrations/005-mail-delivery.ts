import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 15: what FAMOS learns about an address after the SMTP server took its mail (bounces), and the
// bounce a message itself got.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = await isPostgres(db);
  const time = postgres ? "bigint" : "integer";

  // One row per address (lower-cased) that ever bounced; a confirmed code to it clears the problem.
  await db.schema
    .createTable("mail_addresses")
    .addColumn("address_key", "text", (c) => c.primaryKey())
    .addColumn("undeliverable_at", time)
    .addColumn("undeliverable_reason", "text")
    .addColumn("soft_bounces", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_soft_bounce_at", time)
    .addColumn("last_soft_reason", "text")
    .addColumn("confirmed_at", time)
    .addColumn("updated_at", time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("mail_addresses_undeliverable").on("mail_addresses").column("undeliverable_at").execute();

  await db.schema.alterTable("outbox").addColumn("bounced_at", time).execute();
  await db.schema.alterTable("outbox").addColumn("bounce_kind", "text").execute();
  await db.schema.alterTable("outbox").addColumn("bounce_reason", "text").execute();

  // Shared addresses and the partner's usual domain are looked up by address without regard to case.
  await sql`CREATE INDEX users_otp_email_lower ON users (lower(otp_email))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS users_otp_email_lower`.execute(db);
  await db.schema.alterTable("outbox").dropColumn("bounce_reason").execute();
  await db.schema.alterTable("outbox").dropColumn("bounce_kind").execute();
  await db.schema.alterTable("outbox").dropColumn("bounced_at").execute();
  await db.schema.dropTable("mail_addresses").ifExists().execute();
}

async function isPostgres(db: Kysely<any>): Promise<boolean> {
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
