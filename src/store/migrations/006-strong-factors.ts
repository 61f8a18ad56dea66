import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 13: the factors stronger than an emailed code — passkeys (WebAuthn), an authenticator app
// (TOTP, RFC 6238) and single-use recovery codes.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
  const time = postgres ? "bigint" : "integer";

  // One row per registered WebAuthn credential. The credential ID and public key are base64url text;
  // the signature counter and the backup flags are kept to check each assertion against.
  await db.schema
    .createTable("passkeys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("credential_id", "text", (c) => c.notNull().unique())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("sign_count", time, (c) => c.notNull().defaultTo(0))
    .addColumn("transports", "text")
    .addColumn("device_type", "text", (c) => c.notNull())
    .addColumn("backed_up", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("last_used_at", time)
    .execute();
  await db.schema.createIndex("passkeys_user").on("passkeys").column("user_id").execute();

  // At most one authenticator app per user. The secret is encrypted at rest; confirmed_at stays null
  // until the user has typed one code from the app. last_step is the highest RFC 6238 time step
  // accepted, so a code is never accepted twice.
  await db.schema
    .createTable("authenticator_apps")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("confirmed_at", time)
    .addColumn("last_step", time)
    .addColumn("last_used_at", time)
    .execute();

  // Ten single-use recovery codes per set, stored as keyed hashes; a new set replaces the old.
  await db.schema
    .createTable("recovery_codes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("used_at", time)
    .execute();
  await db.schema.createIndex("recovery_codes_user").on("recovery_codes").column("user_id").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("recovery_codes").ifExists().execute();
  await db.schema.dropTable("authenticator_apps").ifExists().execute();
  await db.schema.dropTable("passkeys").ifExists().execute();
}
