import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// `famos serve` made every account's login ID digest (users.login_digest, 021) again at each start, to
// find out whether FAMOS_SECRET had changed: a read of every account at every start of every instance
// (20,000: 0.3 to 0.6 s of the database's time), for nothing almost always. This table keeps, per
// purpose, a fingerprint of the key something stored was made under (an HMAC under that key of a fixed
// text: never the secret nor the key; src/users/login-digest.ts), so a start compares one row.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("key_fingerprints")
    .addColumn("purpose", "text", (c) => c.primaryKey())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("key_fingerprints").ifExists().execute();
}
