import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Which bounce records may go (bounce/forget.ts, for the retention job and erasure) asks which of a
// batch's addresses an account still has, compared as address keys (lower(trim(...))): as OTP email,
// pending address or rollout contact address. Without an index on those expressions every batch of
// 500 read the whole users table (20,000 accounts: 40 full reads per 20,000 old records).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX users_otp_email_key ON users (lower(trim(otp_email)))`.execute(db);
  await sql`CREATE INDEX users_pending_email_key ON users (lower(trim(pending_email)))`.execute(db);
  await sql`CREATE INDEX rollout_users_contact_email_key ON rollout_users (lower(trim(contact_email)))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS rollout_users_contact_email_key`.execute(db);
  await sql`DROP INDEX IF EXISTS users_pending_email_key`.execute(db);
  await sql`DROP INDEX IF EXISTS users_otp_email_key`.execute(db);
}
