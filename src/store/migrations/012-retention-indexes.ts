import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// The retention job (src/retention/cleanup.ts) also removes browsers' device rows a year after their
// last use and bounce records nobody's address has any more; each statement takes its batch through
// an index, as for the other tables (migration 003).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("devices_last_used").on("devices").column("last_used_at").execute();
  await db.schema.createIndex("mail_addresses_updated").on("mail_addresses").columns(["updated_at", "address_key"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("mail_addresses_updated").ifExists().execute();
  await db.schema.dropIndex("devices_last_used").ifExists().execute();
}
