import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * A database file of 0 bytes: a copy or restore that did not finish (a full disk, an interrupted
 * scp), or an empty file an install step made. SQLite takes it for a new, empty database, so famos
 * migrate made a fresh database there and said "Applied: …", exit 0; famos serve ran with no staff at
 * all; user show found nobody and famos audit showed nothing, each having migrated it first — and
 * the backup the operator meant to restore was never mentioned. Every command, the server and famos
 * doctor now refuse it, say what it is and what to do, and leave it as it is.
 */
describe.concurrent("a SQLite database file of 0 bytes", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
  });
  afterAll(() => cli?.remove());

  const said = (file: string) =>
    `${file} is empty (0 bytes), so it holds no FAMOS database: a copy or restore that did not finish leaves such a file. Restore the database from its backup; to start a new database instead, delete the empty file (famos migrate makes one)`;

  for (const command of [["migrate"], ["user", "show", "demo"], ["audit"], ["serve"], ["doctor"]]) {
    it(`famos ${command.join(" ")} says so, exits 1 and leaves the file as it is`, async () => {
      const file = join(cli.dir, `empty-${command.join("-")}.db`);
      writeFileSync(file, "");
      const result = await cli.run(command, { env: { FAMOS_DATABASE_URL: `sqlite:${file}`, FAMOS_PORT: "0" } });
      expect(result.code, result.stderr).toBe(1);
      if (command[0] === "doctor") expect(result.stdout).toContain(`database    FAIL    ${said(file)}`);
      else expect(result.stderr).toBe(`famos: cannot use the database sqlite:${file}: ${said(file)}\n`);
      expect(statSync(file).size).toBe(0);
    });
  }
});
