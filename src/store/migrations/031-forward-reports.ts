import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Forward reports (src/bounce/forward-reports.ts forwardOf) count by message, not by report: a shared address
// its server expands to a group (sales@ → 12 staff) with three dead members returns three reports of one
// message, one event.
// forward_reports: one row per forward report taken, its message and a SHA-256 (base64url) of its kind and
// the address it names (no third person's address is kept here), so that the same report again (a relay's
// retry) is a duplicate while another dead member's report of the same message is recorded. The primary key
// leads with outbox_id, so the outbox's deletions (retention, erasure) find the rows that go with them.
// outbox.forward_counted_at: when a hard forward report of this message was counted on its address
// (mail_addresses.forward_bounces); null: none was. Reports before this migration are not in the table.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("forward_reports")
    .addColumn("outbox_id", "text", (c) => c.notNull().references("outbox.id").onDelete("cascade"))
    .addColumn("report", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("forward_reports_pkey", ["outbox_id", "report"])
    .execute();
  await db.schema.alterTable("outbox").addColumn("forward_counted_at", isPostgres(db) ? "bigint" : "integer").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("outbox").dropColumn("forward_counted_at").execute();
  await db.schema.dropTable("forward_reports").execute();
}

function isPostgres(db: Kysely<any>): boolean {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
