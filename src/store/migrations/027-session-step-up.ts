import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// sessions.stepped_up_at: when the console's step-up password was last typed right in this session
// (null: never, or not since its token last changed). Only the console's freshness rule reads it
// (profile/reauthenticate.ts, CONSOLE_RECENT_CODE_MS): a password proof opens a window of its own there,
// as a code does. No index: it is read with its session's row, which each request already reads.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
  await db.schema.alterTable("sessions").addColumn("stepped_up_at", postgres ? "bigint" : "integer").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("sessions").dropColumn("stepped_up_at").execute();
}
