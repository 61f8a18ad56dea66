import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// The Rollout page's "locked" figure finds the login counters of each kind by their key's prefix
// ("password:id:", src/regulation/counter-key.ts), and a password-spraying run leaves a counter for
// every login ID it tried until the cleanup job removes it. On PostgreSQL the key took the database's
// collation (en_US.UTF-8, C.UTF-8: anything but "C"), whose order serves neither LIKE 'prefix%' nor a
// range of the prefix (a linguistic order ignores punctuation such as ':'), so the figure read every
// counter twice per view. Keys are machine-made (a kind, a digest, an address), compared for equality
// and by prefix: byte order ("C") is their order. The digests the figure joins them to
// (users.login_digest, 021) take the same collation, or the join's comparison would have no index on
// either side. Equality is unchanged (a deterministic collation compares bytes); throttles_pkey and
// users_login_digest are rebuilt in that order. SQLite compares text as bytes (BINARY) already.
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`ALTER TABLE throttles ALTER COLUMN key TYPE text COLLATE "C"`.execute(db);
  await sql`ALTER TABLE users ALTER COLUMN login_digest TYPE text COLLATE "C"`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`ALTER TABLE users ALTER COLUMN login_digest TYPE text COLLATE "default"`.execute(db);
  await sql`ALTER TABLE throttles ALTER COLUMN key TYPE text COLLATE "default"`.execute(db);
}

function isPostgres(db: Kysely<any>): boolean {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
