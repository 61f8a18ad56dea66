import { Migrator, NO_MIGRATIONS, sql, type Migration, type MigrationResultSet } from "kysely";
import { openStore, type Store, type StoreOptions } from "./database.ts";
import * as initial from "./migrations/001-initial.ts";
import * as devicesAndWindows from "./migrations/002-devices-and-windows.ts";
import * as lifecycle from "./migrations/003-lifecycle.ts";
import * as rollout from "./migrations/004-rollout.ts";
import * as mailDelivery from "./migrations/005-mail-delivery.ts";
import * as strongFactors from "./migrations/006-strong-factors.ts";
import * as passkeyChallenges from "./migrations/008-passkey-challenges.ts";
import * as locale from "./migrations/007-locale.ts";
import * as signInIndexes from "./migrations/009-sign-in-indexes.ts";
import * as fewerPages from "./migrations/010-fewer-pages.ts";
import * as appSetupSession from "./migrations/011-app-setup-session.ts";
import * as retentionIndexes from "./migrations/012-retention-indexes.ts";
import * as loginKeyNfc from "./migrations/013-login-key-nfc.ts";
import * as addressKeyIndexes from "./migrations/014-address-key-indexes.ts";
import * as auditPersonIndexes from "./migrations/015-audit-person-indexes.ts";
import * as auditSubjectTime from "./migrations/016-audit-subject-time.ts";
import * as throttlesByKey from "./migrations/017-throttles-by-key.ts";
import * as hardBouncedMail from "./migrations/018-hard-bounced-mail.ts";
import { loginDigests } from "./migrations/019-login-digests.ts";
import * as mailFaults from "./migrations/020-mail-faults.ts";
import { userLoginDigests } from "./migrations/021-user-login-digests.ts";
import * as counterKeysInByteOrder from "./migrations/022-counter-keys-in-byte-order.ts";
import * as keyFingerprints from "./migrations/023-key-fingerprints.ts";
import * as countersEverLocked from "./migrations/024-counters-ever-locked.ts";
import * as resetConfirmations from "./migrations/025-reset-confirmations.ts";
import * as strongFactorMark from "./migrations/026-strong-factor-mark.ts";
import * as sessionStepUp from "./migrations/027-session-step-up.ts";
import * as syncDisabledPartner from "./migrations/028-sync-disabled-partner.ts";
import * as importedHashDigest from "./migrations/029-imported-hash-digest.ts";
import * as forwardBounces from "./migrations/030-forward-bounces.ts";
import * as forwardReports from "./migrations/031-forward-reports.ts";
import * as codeAddressIndex from "./migrations/032-code-address-index.ts";
import type { Keys } from "../platform/keys.ts";

/**
 * Listed here rather than read from disk, so a bundled or compiled build finds them too. `keys`: the
 * keys derived from FAMOS_SECRET, for a migration that computes a keyed digest (019, 021); a database with
 * nothing for it to rewrite (a new one, most tests) migrates without them.
 */
export const migrationsWith = (keys: Pick<Keys, "loginId"> | null): Record<string, Migration> => ({
  "001-initial": initial,
  "002-devices-and-windows": devicesAndWindows,
  "003-lifecycle": lifecycle,
  "004-rollout": rollout,
  "005-mail-delivery": mailDelivery,
  "006-strong-factors": strongFactors,
  "008-passkey-challenges": passkeyChallenges,
  "007-locale": locale,
  "009-sign-in-indexes": signInIndexes,
  "010-fewer-pages": fewerPages,
  "011-app-setup-session": appSetupSession,
  "012-retention-indexes": retentionIndexes,
  "013-login-key-nfc": loginKeyNfc,
  "014-address-key-indexes": addressKeyIndexes,
  "015-audit-person-indexes": auditPersonIndexes,
  "016-audit-subject-time": auditSubjectTime,
  "017-throttles-by-key": throttlesByKey,
  "018-hard-bounced-mail": hardBouncedMail,
  "019-login-digests": loginDigests(keys),
  "020-mail-faults": mailFaults,
  "021-user-login-digests": userLoginDigests(keys),
  "022-counter-keys-in-byte-order": counterKeysInByteOrder,
  "023-key-fingerprints": keyFingerprints,
  "024-counters-ever-locked": countersEverLocked,
  "025-reset-confirmations": resetConfirmations,
  "026-strong-factor-mark": strongFactorMark,
  "027-session-step-up": sessionStepUp,
  "028-sync-disabled-partner": syncDisabledPartner,
  "029-imported-hash-digest": importedHashDigest,
  "030-forward-bounces": forwardBounces,
  "031-forward-reports": forwardReports,
  "032-code-address-index": codeAddressIndex,
});

/** Every migration's name, oldest first. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrationsWith(null)).sort();

export const LATEST_MIGRATION = MIGRATION_NAMES.at(-1)!;

/** The keys a migration may need (see migrationsWith); null: none given. */
type MigrationKeys = Pick<Keys, "loginId"> | null;

/**
 * Kysely looks for its migration table in every schema of a PostgreSQL database unless it is told
 * which one, so a second FAMOS schema in the same database (tests, staging next to production) would
 * find the first one's table and fail. Naming the schema also makes Kysely create it if missing.
 */
async function migrator(store: Store, migrations: Record<string, Migration>): Promise<Migrator> {
  const migrationTableSchema = store.dialect === "postgres" ? await migrationSchema(store) : undefined;
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: "famos_migration",
    migrationLockTableName: "famos_migration_lock",
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
}

/** The PostgreSQL schema of FAMOS's tables and its migration table: ?schema=, else the current one. */
async function migrationSchema(store: Store): Promise<string> {
  const schema = store.schema ?? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0]?.schema;
  if (!schema) throw new Error("PostgreSQL has no current schema: set ?schema= in FAMOS_DATABASE_URL");
  return schema;
}

function check(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName;
    const what = failed === undefined ? "could not migrate the database" : `migration ${failed} failed`;
    // The driver's code goes with it, so a fault of the setup (a full disk, a read-only file, a server
    // gone) is told in one line like any other (cli/io.ts reachDatabase), not with a stack trace.
    const code = (result.error as { code?: unknown } | undefined)?.code;
    throw Object.assign(new Error(`${what}: ${String(result.error)}`, { cause: result.error }), typeof code === "string" ? { code } : {});
  }
  return result;
}

/**
 * Kysely's introspection lists tables across every schema of the database. When another schema is
 * dropped at that moment (another FAMOS, or tests, sharing the server) PostgreSQL answers 3F000
 * "schema does not exist", or 42P01 about a table of that other schema ('relation
 * "other_schema.famos_migration" does not exist', seen in CI), or 42703 from the introspection's
 * pg_get_serial_sequence about a column another schema's migration dropped or renamed between the
 * catalogue read and the call ('column "code_hash" of relation "codes" does not exist', seen in a
 * whole-suite run): a passing race, so the step is tried again. A migration's own missing table is
 * named without its schema, and its own missing column comes from another routine: each fails again.
 */
export function vanishedSchema(error: unknown): boolean {
  const { code, message, routine } = (error ?? {}) as { code?: unknown; message?: unknown; routine?: unknown };
  return (
    code === "3F000" ||
    (code === "42P01" && typeof message === "string" && /^relation "[^".]+\.[^"]+" does not exist$/.test(message)) ||
    (code === "42703" && routine === "pg_get_serial_sequence")
  );
}

async function withRetry<T>(step: () => Promise<T>, failed: (result: T) => unknown = () => undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await step();
      if (attempt < 5 && vanishedSchema(failed(result))) continue;
      return result;
    } catch (error) {
      if (attempt < 5 && vanishedSchema(error)) continue;
      throw error;
    }
  }
}

/**
 * `famos migrate`, and `famos serve` before it serves: on a store of its own, which no statement
 * bound cuts (a migration may build an index over a large table), closed when done. Only opening its
 * connection is bounded (connectionTimeoutMs: the commands' FAMOS_DATABASE_TIMEOUT).
 */
export async function migrateDatabase(url: string, keys: MigrationKeys = null, options: Pick<StoreOptions, "connectionTimeoutMs"> = {}): Promise<MigrationResultSet> {
  const store = openStore(url, options);
  try {
    return await migrateToLatest(store, keys);
  } finally {
    await store.close();
  }
}

/**
 * A database that a newer FAMOS migrated (a rollback to an older build, an older instance started
 * after the upgrade): its schema is one this build's statements were not written for, so nothing
 * runs on it. Told in one line (cli/io.ts reachDatabase), with what to do.
 */
export class NewerDatabase extends Error {
  constructor(readonly unknown: string[]) {
    super(
      `the database has migrations this version of FAMOS does not know (${unknown.join(", ")}): a newer version of FAMOS migrated it; ` +
        "run that version or a newer one, or restore the backup taken before the upgrade",
    );
    this.name = "NewerDatabase";
  }
}

/** Migrations applied to the database that this build does not have, oldest first (none: not newer). */
export async function unknownMigrations(store: Store): Promise<string[]> {
  return (await appliedMigrations(store)).filter((name) => !MIGRATION_NAMES.includes(name));
}

/**
 * The names in the migration table, oldest first; none while it does not exist yet (a new database).
 * Read directly in the table's own schema: Kysely's getMigrations first introspects every table of
 * every schema of a PostgreSQL database, a query that waits on any other schema's DDL and fails when
 * a table is dropped under it (tests, staging beside production), and that `famos serve`, every
 * command and /readyz would otherwise run at each start or probe.
 */
async function appliedMigrations(store: Store): Promise<string[]> {
  const schema = store.dialect === "postgres" ? await migrationSchema(store) : undefined;
  const table = sql.table(schema ? `${schema}.famos_migration` : "famos_migration");
  try {
    const { rows } = await sql<{ name: string }>`select name from ${table} order by name`.execute(store.db);
    return rows.map((row) => row.name);
  } catch (error) {
    if (missingTable(error)) return [];
    throw error;
  }
}

/** PostgreSQL's undefined table or schema, SQLite's "no such table": nothing migrated yet. */
function missingTable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "42P01" || code === "3F000" || (code === "SQLITE_ERROR" && typeof message === "string" && message.startsWith("no such table"));
}

/**
 * Brings the schema to the latest migration; throws with the failing migration's name, or NewerDatabase.
 * All that are pending run in one transaction with their rows in famos_migration, on both dialects
 * (PostgreSQL's DDL is transactional, and SQLite's: database.ts TransactionalDdlSqliteAdapter), so one
 * that stops half-way keeps nothing of the run and the next run starts it afresh. `migrations`: the
 * same names with other steps (a test's migration that fails half-way).
 */
export async function migrateToLatest(store: Store, keys: MigrationKeys = null, migrations = migrationsWith(keys)): Promise<MigrationResultSet> {
  const unknown = await unknownMigrations(store);
  if (unknown.length > 0) throw new NewerDatabase(unknown);
  // Nothing pending: no migrator's transaction, which on SQLite takes the write lock (database.ts), so
  // a command beside a process that holds it (an import, `famos serve` mid-commit) reads without waiting.
  if ((await pendingMigrations(store)).length === 0) return { results: [] };
  const result = check(await withRetry(async () => (await migrator(store, migrations)).migrateToLatest(), (r) => r.error));
  await emptyWal(store);
  return result;
}

/**
 * SQLite: a migration that rewrote rows (019: login IDs typed, now and then a password) leaves the old
 * pages in the write-ahead log until a checkpoint; they are copied into the file and the log emptied.
 */
async function emptyWal(store: Store): Promise<void> {
  if (store.dialect === "sqlite") await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(store.db);
}

/** Brings the schema to the named migration, up or down (tests of one migration with rows in place). */
export async function migrateTo(store: Store, name: string, keys: MigrationKeys = null): Promise<MigrationResultSet> {
  return check(await withRetry(async () => (await migrator(store, migrationsWith(keys))).migrateTo(name), (r) => r.error));
}

/** Undoes every migration (tests of the down steps; not offered on the command line). */
export async function migrateDownAll(store: Store): Promise<MigrationResultSet> {
  return check(await withRetry(async () => (await migrator(store, migrationsWith(null))).migrateTo(NO_MIGRATIONS), (r) => r.error));
}

/** Migrations not yet applied, oldest first: none means ready (the readiness check). */
export async function pendingMigrations(store: Store): Promise<string[]> {
  const applied = new Set(await appliedMigrations(store));
  return MIGRATION_NAMES.filter((name) => !applied.has(name));
}

/** True when every migration has been applied. */
export async function migrationsApplied(store: Store): Promise<boolean> {
  return (await pendingMigrations(store)).length === 0;
}
