import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 16: each user's language and time zone, for their pages and mails. Null: not chosen (the
// browser's language, else FAMOS_DEFAULT_LOCALE; FAMOS_TIMEZONE).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("users").addColumn("locale", "text").execute();
  await db.schema.alterTable("users").addColumn("time_zone", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("users").dropColumn("time_zone").execute();
  await db.schema.alterTable("users").dropColumn("locale").execute();
}
