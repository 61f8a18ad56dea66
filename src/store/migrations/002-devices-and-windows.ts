import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies") and the window of
// the per-address counter (SPEC "Locks": FAMOS_ADDRESS_LOCK_AFTER within FAMOS_ADDRESS_WINDOW).
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
  const time = postgres ? "bigint" : "integer";

  // When the counter's window began; 0 for counters without a window (login IDs and devices count
  // consecutive failures until a success).
  await db.schema.alterTable("throttles").addColumn("window_started_at", time, (c) => c.notNull().defaultTo(0)).execute();

  // A browser that completed a sign-in for a login ID; its cookie names the row and carries a MAC
  // bound to the login key. Revoking the row makes the cookie worth nothing.
  await db.schema
    .createTable("devices")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("login_key", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("last_used_at", time, (c) => c.notNull())
    .addColumn("revoked_at", time)
    .execute();
  await db.schema.createIndex("devices_login").on("devices").columns(["login_key", "revoked_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("devices").ifExists().execute();
  await db.schema.alterTable("throttles").dropColumn("window_started_at").execute();
}
