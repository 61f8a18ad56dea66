import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Times are 64-bit integers (milliseconds) so both dialects order and compare them alike.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = await isPostgres(db);
  const time = postgres ? "bigint" : "integer";

  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("login_id", "text", (c) => c.notNull())
    .addColumn("login_key", "text", (c) => c.notNull().unique())
    .addColumn("full_name", "text", (c) => c.notNull())
    .addColumn("partner_number", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull().defaultTo("user"))
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("otp_email", "text")
    .addColumn("otp_email_confirmed_at", time)
    .addColumn("pending_email", "text")
    .addColumn("last_sign_in_at", time)
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("updated_at", time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("flows")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("codes_sent", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_code_at", time)
    .addColumn("finished_at", time)
    .addColumn("return_to", "text")
    .execute();
  await db.schema.createIndex("flows_user").on("flows").columns(["user_id", "created_at"]).execute();

  await db.schema
    .createTable("codes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("flow_id", "text", (c) => c.notNull().references("flows.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("outbox_id", "text")
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("expires_at", time, (c) => c.notNull())
    .addColumn("tries", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("consumed_at", time)
    .addColumn("voided_at", time)
    .addColumn("void_reason", "text")
    .execute();
  await db.schema.createIndex("codes_flow").on("codes").columns(["flow_id", "created_at"]).execute();
  await db.schema.createIndex("codes_user").on("codes").columns(["user_id", "created_at"]).execute();

  await db.schema
    .createTable("sessions")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("stage", "text", (c) => c.notNull())
    .addColumn("flow_id", "text")
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("last_seen_at", time, (c) => c.notNull())
    .addColumn("expires_at", time, (c) => c.notNull())
    .addColumn("verified_at", time)
    .addColumn("ip", "text", (c) => c.notNull())
    .addColumn("user_agent", "text", (c) => c.notNull())
    .addColumn("ended_at", time)
    .addColumn("end_reason", "text")
    .execute();
  await db.schema.createIndex("sessions_user").on("sessions").columns(["user_id", "ended_at"]).execute();

  await db.schema
    .createTable("throttles")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked_until", time, (c) => c.notNull().defaultTo(0))
    .addColumn("hard_locked", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("outbox")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text")
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("recipient", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("text_body", "text", (c) => c.notNull())
    .addColumn("html_body", "text", (c) => c.notNull())
    .addColumn("message_id", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", time, (c) => c.notNull())
    .addColumn("lease_until", time)
    .addColumn("last_error", "text")
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("sent_at", time)
    .execute();
  await db.schema.createIndex("outbox_due").on("outbox").columns(["state", "next_attempt_at"]).execute();
  await db.schema.createIndex("outbox_user").on("outbox").columns(["user_id", "created_at"]).execute();

  await db.schema
    .createTable("audit")
    .addColumn("id", postgres ? "bigserial" : "integer", (c) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn("time", time, (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("actor", "text")
    .addColumn("subject", "text")
    .addColumn("ip", "text")
    .addColumn("user_agent", "text")
    .addColumn("detail", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();
  await db.schema.createIndex("audit_time").on("audit").column("time").execute();
  await db.schema.createIndex("audit_subject").on("audit").columns(["subject", "time"]).execute();

  await db.schema
    .createTable("notices")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", time, (c) => c.notNull())
    .addColumn("updated_at", time)
    .addColumn("ended_at", time)
    .addColumn("created_by", "text", (c) => c.notNull())
    .execute();

  // The audit trail is append-only: the database itself refuses to change or delete its rows.
  if (postgres) {
    await sql`CREATE FUNCTION famos_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$`.execute(db);
    await sql`CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
      FOR EACH ROW EXECUTE FUNCTION famos_audit_append_only()`.execute(db);
  } else {
    await sql`CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`.execute(db);
    await sql`CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["notices", "audit", "outbox", "throttles", "sessions", "codes", "flows", "users"]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  if (await isPostgres(db)) await sql`DROP FUNCTION IF EXISTS famos_audit_append_only()`.execute(db);
}

async function isPostgres(db: Kysely<any>): Promise<boolean> {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
