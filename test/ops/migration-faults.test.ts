import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { MIGRATION_NAMES, migrateDatabase, migrateTo, migrateToLatest, migrationsWith, pendingMigrations } from "../../src/store/migrate.ts";
import * as mailFaults from "../../src/store/migrations/020-mail-faults.ts";
import { cliWorkspace, type CliWorkspace } from "../cli/run-famos.ts";
import { DIALECTS, testDatabase } from "../store/dialects.ts";

/**
 * A migration that stops half-way (a full disk, a kill, a power cut) and a database that a newer
 * FAMOS migrated: what an operator upgrading or rolling back meets.
 */
describe.each(DIALECTS)("a migration that fails half-way keeps nothing of it (%s)", (dialect) => {
  it("the next run applies it whole once the fault is gone", async () => {
    const database = await testDatabase(dialect, "half_migration");
    try {
      // A table in the way of 001-initial's later statements: its earlier ones (users, flows, codes)
      // run, then it fails, as it would on a disk that fills up in the middle.
      const store = openStore(database.url);
      await sql`create table sessions (id text)`.execute(store.db);
      await store.close();
      await expect(migrateDatabase(database.url)).rejects.toThrow(/001-initial/);

      const after = openStore(database.url);
      expect(Object.keys(await schemaOf(after))).not.toContain("users");
      await sql`drop table sessions`.execute(after.db);
      await after.close();

      await migrateDatabase(database.url);
      const done = openStore(database.url);
      expect(await pendingMigrations(done)).toEqual([]);
      await done.close();
    } finally {
      await database.drop();
    }
  });
});

/**
 * The columns of each table of the store's own schema, by table. On PostgreSQL read from that schema
 * alone: Kysely's introspection lists every schema of the database, and fails when another test drops
 * its own between the listing and the read of its columns.
 */
async function schemaOf(store: Store): Promise<Record<string, string[]>> {
  if (store.schema !== null) {
    const { rows } = await sql<{ table_name: string; column_name: string }>`select table_name, column_name from information_schema.columns where table_schema = ${store.schema}`.execute(store.db);
    const byTable: Record<string, string[]> = {};
    for (const row of rows) if (!row.table_name.startsWith("kysely_")) (byTable[row.table_name] ??= []).push(row.column_name);
    return Object.fromEntries(Object.entries(byTable).map(([name, columns]) => [name, columns.sort()]));
  }
  const tables = (await store.db.introspection.getTables()).filter((t) => store.schema === null || t.schema === store.schema);
  return Object.fromEntries(tables.map((t) => [t.name, t.columns.map((c) => c.name).sort()]));
}

describe.each(DIALECTS)("a later migration that stops half-way on a database in use (%s)", (dialect) => {
  it("leaves the schema and the migration table as they were, and the next run applies it whole", async () => {
    const database = await testDatabase(dialect, "half_later");
    const store = openStore(database.url);
    try {
      await migrateTo(store, "019-login-digests");
      const before = await schemaOf(store);
      // 020 as released, then the fault (a kill, a full disk) after all its statements but before its row.
      const halfWay = { ...migrationsWith(null), "020-mail-faults": { up: async (db: never) => (await mailFaults.up(db), Promise.reject(new Error("the power went"))) } };
      await expect(migrateToLatest(store, null, halfWay)).rejects.toThrow(/migration 020-mail-faults failed: Error: the power went/);

      expect(await schemaOf(store)).toEqual(before);
      expect(before["outbox"]).not.toContain("last_fault");
      // 020 and every later one (a list that grows with each release).
      expect(await pendingMigrations(store)).toEqual(MIGRATION_NAMES.slice(MIGRATION_NAMES.indexOf("020-mail-faults")));

      await migrateToLatest(store);
      expect(await pendingMigrations(store)).toEqual([]);
      expect((await schemaOf(store))["outbox"]).toContain("last_fault");
    } finally {
      await store.close();
      await database.drop();
    }
  });
});

// famos migrate's refusal and famos serve run as real processes (exit 1 as the shell sees it; serve in
// this process would take the worker's signals); the first migrate, audit and doctor are the same
// commands through main() in this process (cli.inProcess), checked as before.
describe("a database from a newer FAMOS (migrations this build does not know)", () => {
  let cli: CliWorkspace;
  beforeAll(async () => {
    cli = cliWorkspace();
    expect((await cli.inProcess(["migrate"])).code).toBe(0);
    const store = openStore(cli.databaseUrl);
    await sql`insert into famos_migration (name, timestamp) values ('099-from-the-future', '2031-01-01T00:00:00.000Z')`.execute(store.db);
    await store.close();
  });
  afterAll(() => cli.remove());

  it("famos migrate refuses in one line, naming it, and exits 1", async () => {
    const result = await cli.run(["migrate"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/099-from-the-future/);
    expect(result.stderr).toMatch(/newer version of FAMOS/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toMatch(/up to date/);
  });

  it("famos serve and every other command refuse too", async () => {
    for (const args of [["serve"], ["audit"]]) {
      // A serve that starts anyway is ended by timeout(1), exit 124.
      const result = args[0] === "serve" ? await cli.run(args, { env: { FAMOS_PORT: "0" }, prefix: ["timeout", "20"] }) : await cli.inProcess(args);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr, args.join(" ")).toMatch(/099-from-the-future/);
    }
  });

  it("famos doctor fails its migrations check, saying what to do", async () => {
    const result = await cli.inProcess(["doctor"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^migrations\s+FAIL\s+.*099-from-the-future.*newer version of FAMOS/m);
    expect(MIGRATION_NAMES).not.toContain("099-from-the-future");
  });
});

describe("famos migrate on a full disk", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
  });
  afterAll(() => cli.remove());

  it("says so in one line, without a stack trace, and exits 1", async () => {
    const full = join(cli.dir, "full");
    mkdirSync(full);
    // A 1 MiB file system of the command's own (a mount namespace: nothing mounted outside it), nearly filled.
    const onFullDisk = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0" && head -c 960k /dev/zero > "$0/fill" && exec "$@"', full];
    const result = await cli.run(["migrate"], { env: { FAMOS_DATABASE_URL: `sqlite:${join(full, "famos.db")}` }, prefix: onFullDisk });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^famos: cannot use the database sqlite:.*famos\.db: (could not migrate the database|migration 001-initial failed): .*database or disk is full/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
