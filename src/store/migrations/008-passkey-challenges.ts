import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 13: WebAuthn challenges. Each is bound to the session that asked for it and to what it is
// for (adding a passkey, or signing in with one), lives a few minutes and is used at most once
// (WebAuthn Level 3 §13.4.3: a challenge must be random and must not be reused). Only its SHA-256
// is kept; the session's end removes it.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
  const time = postgres ? "bigint" : "integer";
  await db.schema
    .createTable("passkey_challenges")
    .addColumn("challenge_hash", "text", (c) => c.primaryKey())
    .addColumn("session_id", "text", (c) => c.notNull().references("sessions.id").onDelete("cascade"))
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("expires_at", time, (c) => c.notNull())
    .addColumn("used_at", time)
    .execute();
  await db.schema.createIndex("passkey_challenges_session").on("passkey_challenges").column("session_id").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("passkey_challenges").ifExists().execute();
}
