import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// A bounce (bounce/record-bounce.ts: was a code to this address confirmed since the message?) and a
// forward report (bounce/forward-reports.ts: was one of its codes counted already?) look codes up by
// address, lower(codes.email), with an expiry bound. Migration 010 dropped the index on expiry, and
// none was on the address: both read the whole codes table, which holds every code of the last session
// lifetime (200,000 codes for 20,000 users: bench/code-address-plans.ts). The address picks a handful.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX codes_email_key ON codes (lower(email))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS codes_email_key`.execute(db);
}
