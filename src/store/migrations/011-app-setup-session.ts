import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// An authenticator app being set up belongs to the session that started it (after a fresh proof,
// ASVS 3.7.1), as a passkey's challenge does (008): another session of the user neither reads its key
// nor confirms it. Null for a setup started before this migration, which no session continues: the
// user starts again.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("authenticator_apps").addColumn("setup_session_id", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("authenticator_apps").dropColumn("setup_session_id").execute();
}
