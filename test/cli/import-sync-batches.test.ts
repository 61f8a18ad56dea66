import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IMPORT_BATCH_ROWS } from "../../src/support/import-users.ts";
import { openStore } from "../../src/store/database.ts";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * `famos user import --sync --update --dry-run` walks the file in the real run's batches
 * (importBatches, support/import-users.ts): a batch adds its new administrators before it changes
 * roles, so whether a demotion of the only administrator is refused depends on which batch the new
 * administrator is in. The dry run and the real run must draw that line in the same place; a walk of
 * either of its own (one batch for the whole file, another size) makes them disagree here.
 */
describe.each(DIALECTS)("user import --sync --update: the dry run's batches are the real run's, on %s", { timeout: 60_000 }, (dialect: TestDialect) => {
  let cli: CliWorkspace;
  let database: TestDatabase;
  const hash = bcryptHash("correct horse battery staple");
  const run = (args: string[]) => cli.inProcess(args, { env: { FAMOS_DATABASE_URL: database.url } });
  const file = (name: string, rows: string[]) => {
    const path = join(cli.dir, name);
    writeFileSync(path, [HEADER, ...rows].join("\n"));
    return path;
  };
  /** Line 2 demotes the only administrator; staff fill the first batch up to `newAdminAt` rows, then a new administrator. */
  const rows = (newAdminAt: number) => [
    `z.admin,Name z.admin,0900,user,,${hash}`,
    ...Array.from({ length: newAdminAt - 2 }, (_, i) => `z${i},Name z${i},0900,user,,${hash}`),
    `z.new,Name z.new,0900,admin,,${hash}`,
  ];
  const refusedLines = (stderr: string) => stderr.match(/^ {2}line \d+: .*$/gm) ?? [];
  const roleOf = async (loginId: string) => {
    const store = openStore(database.url);
    try {
      return (await store.db.selectFrom("users").select("role").where("login_id", "=", loginId).executeTakeFirstOrThrow()).role;
    } finally {
      await store.close();
    }
  };

  beforeEach(async () => {
    cli = cliWorkspace();
    database = await testDatabase(dialect, `sync_batches_${dialect}`);
    const added = await run(["user", "import", file("z.csv", [`z.admin,Name z.admin,0900,admin,,${hash}`])]);
    expect(added.code, added.stderr).toBe(0);
  });
  afterEach(async () => {
    await database?.drop();
    cli?.remove();
  });

  it("a new administrator in the demotion's batch is counted first: neither run refuses the demotion", async () => {
    const staff = file("same-batch.csv", rows(IMPORT_BATCH_ROWS));
    const dry = await run(["user", "import", staff, "--sync", "--update", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(refusedLines(dry.stderr)).toEqual([]);
    const real = await run(["user", "import", staff, "--sync", "--update"]);
    expect(real.code, real.stderr).toBe(0);
    expect(await roleOf("z.admin")).toBe("user");
  });

  it("a new administrator in the next batch comes too late: both runs refuse the demotion of the last administrator", async () => {
    const staff = file("next-batch.csv", rows(IMPORT_BATCH_ROWS + 1));
    const refused = 'line 2: "z.admin": This is the last administrator: make another account an administrator first.';
    const dry = await run(["user", "import", staff, "--sync", "--update", "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(refusedLines(dry.stderr)).toEqual([`  ${refused}`]);
    const real = await run(["user", "import", staff, "--sync", "--update"]);
    expect(real.code).toBe(1);
    expect(refusedLines(real.stderr)).toEqual([`  ${refused}`]);
    expect(await roleOf("z.admin")).toBe("admin");
  });
});
