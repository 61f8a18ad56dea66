import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// The 2FA rollout (issue 12) keeps its own tables, so the users table and its readers stay as they are.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
  const time = postgres ? "bigint" : "integer";

  // One row per wave: partner_number "*" is the default start, any other value that partner's own.
  await db.schema
    .createTable("rollout_plan")
    .addColumn("partner_number", "text", (c) => c.primaryKey())
    .addColumn("starts_at", time, (c) => c.notNull())
    .addColumn("updated_at", time, (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .execute();

  // A user's part in the rollout: the address announcements go to, "Later" choices used, and when
  // the announcement was queued (set in the transaction that queues it: nobody is mailed twice).
  await db.schema
    .createTable("rollout_users")
    .addColumn("user_id", "text", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
    .addColumn("contact_email", "text")
    .addColumn("grace_used", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("announced_at", time)
    .execute();

  // Enrolments per day read the audit trail by event and time.
  await db.schema.createIndex("audit_event_time").on("audit").columns(["event", "time"]).execute();
  await db.schema.createIndex("users_partner").on("users").column("partner_number").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("users_partner").ifExists().execute();
  await db.schema.dropIndex("audit_event_time").ifExists().execute();
  await db.schema.dropTable("rollout_users").ifExists().execute();
  await db.schema.dropTable("rollout_plan").ifExists().execute();
}
