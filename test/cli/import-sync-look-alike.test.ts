import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * `famos user import --sync --update --dry-run` names every row the real run refuses. A new
 * administrator whose login ID is a look-alike is refused by the real run (refusedNewcomers) and so
 * makes no administrator: a demotion of the last enabled one beside it is refused too, in both runs.
 */
describe.each(DIALECTS)("user import --sync --update --dry-run with a look-alike new administrator on %s", (dialect: TestDialect) => {
  let cli: CliWorkspace;
  let database: TestDatabase;
  const hash = bcryptHash("correct horse battery staple");
  const file = (name: string, rows: string[]) => {
    const path = join(cli.dir, name);
    writeFileSync(path, [HEADER, ...rows].join("\n"));
    return path;
  };
  const run = (args: string[]) => cli.inProcess(args, { env: { FAMOS_DATABASE_URL: database.url } });

  beforeAll(async () => {
    cli = cliWorkspace();
    database = await testDatabase(dialect, `sync_lookalike_${dialect}`);
    const added = await run(["user", "import", file("k.csv", [`k.admin,Name k.admin,0800,admin,,${hash}`, `k1,Name k1,0800,user,,${hash}`])]);
    expect(added.code, added.stderr).toBe(0);
  });
  afterAll(async () => {
    await database?.drop();
    cli?.remove();
  });

  it("refuses the demotion of the last administrator in the dry run as the real run does, the look-alike newcomer counted as no administrator", async () => {
    // k.admin is the only enabled administrator. Line 2 demotes them; line 3 would add "kаdmin2" (a
    // Cyrillic а among Latin letters) as an administrator, which the real run refuses.
    const staff = file("k-sync.csv", [`k.admin,Name k.admin,0800,user,,${hash}`, `k\u0430dmin2,Name k2,0800,admin,,${hash}`, `k1,Name k1,0800,user,,${hash}`]);
    const dry = await run(["user", "import", staff, "--sync", "--update", "--dry-run"]);
    const real = await run(["user", "import", staff, "--sync", "--update"]);
    expect(real.code).toBe(1);
    const realLines = real.stderr.match(/^ {2}line \d+: .*$/gm);
    expect(realLines).toHaveLength(2);
    expect(dry.code).toBe(1);
    expect(dry.stderr.match(/^ {2}line \d+: .*$/gm)).toEqual(realLines);
    expect(dry.stderr).toContain("2 rows are refused: a real run disables nobody until the file is fixed.\n");
  });
});
