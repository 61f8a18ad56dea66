import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// users.imported_hash_digest: the SHA-256 (hex) of the password_hash string the last `famos user import`
// gave the account, so that a nightly `--update` of the same file tells the file's unchanged hash from a
// new password after sign-in upgraded the stored one or the person changed it (support/imported-password.ts).
// Null: no import gave the account a hash. Accounts already here are "unrecorded": what an import last
// gave them is not known (an argon2id hash may be sign-in's upgrade of it), and the import decides for
// them by the rule in imported-password.ts. No index: read with the user's row, by login_key.
//
// The mark, without rewriting rows under ALTER TABLE's lock: on PostgreSQL (11+) it is the column's
// default while it is added, a catalogue change (the value is kept as the column's "missing" value), then
// the default is dropped so new rows start null. SQLite cannot drop a column's default, so there the
// column comes without one and an UPDATE marks the rows: one file, no reader waits on a writer (WAL).
export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await db.schema.alterTable("users").addColumn("imported_hash_digest", "text", (c) => c.defaultTo("unrecorded")).execute();
    await db.schema.alterTable("users").alterColumn("imported_hash_digest", (c) => c.dropDefault()).execute();
    return;
  }
  await db.schema.alterTable("users").addColumn("imported_hash_digest", "text").execute();
  await db.updateTable("users").set({ imported_hash_digest: "unrecorded" }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("users").dropColumn("imported_hash_digest").execute();
}

function isPostgres(db: Kysely<any>): boolean {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
