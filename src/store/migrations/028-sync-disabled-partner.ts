import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// users.sync_disabled_partner: the partner whose `famos user import --sync` disabled the account (its
// file left them out); null when it is enabled or a person disabled it. Set in the same statement as
// disabled_at (account/disable.ts setDisabled), cleared by every enable and by a person's disable, so it
// never outlives the disable it describes. An `--update` row that puts the account at another partner
// enables it again (support/import-movers.ts, enablesAgain): a mover between dealers. No index: it is read
// with the user's row, which the import already reads by login_key.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("users").addColumn("sync_disabled_partner", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("users").dropColumn("sync_disabled_partner").execute();
}
