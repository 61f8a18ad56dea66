import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Erasure (account/erase.ts) finds a person's events by login ID as actor or subject, compared as
// lower(trim(...)) — in its own reads and in the pseudonymise function of migration 003, which runs
// once more for every address she had. Without an index on those expressions each of them read the
// whole trail (months of 20,000 people's sign-ins) inside the erasure's transaction, holding SQLite's
// write lock the while, so sign-ins waited on it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX audit_subject_key ON audit (lower(trim(subject)))`.execute(db);
  await sql`CREATE INDEX audit_actor_key ON audit (lower(trim(actor)))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS audit_actor_key`.execute(db);
  await sql`DROP INDEX IF EXISTS audit_subject_key`.execute(db);
}
