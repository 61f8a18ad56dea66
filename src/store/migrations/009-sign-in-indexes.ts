import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 17: two reads of every Profile page sorted their rows in a temporary b-tree. The user's live
// sessions, newest first, come in order from an index that also ends in `created_at` (it replaces
// sessions_user, whose queries it serves as well, at the same cost per write: `created_at` never
// changes). The live notices were a scan of every notice ever posted; a partial index holds the live
// ones only, in order.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("sessions_user_live").on("sessions").columns(["user_id", "ended_at", "created_at"]).execute();
  await db.schema.dropIndex("sessions_user").execute();
  await db.schema.createIndex("notices_live").on("notices").column("created_at").where(sql.ref("ended_at"), "is", null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("notices_live").ifExists().execute();
  await db.schema.createIndex("sessions_user").on("sessions").columns(["user_id", "ended_at"]).execute();
  await db.schema.dropIndex("sessions_user_live").ifExists().execute();
}
