import Database from "better-sqlite3";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * What an operator at a dealer network's retail IT types, mistakes included: every refusal is one
 * plain line on standard error with exit 1 or 2, never a stack trace, and nothing is changed.
 */
describe("the command line under an operator's mistakes", { timeout: 60_000 }, () => {
  let cli: CliWorkspace;
  const PASSWORD = "a long passphrase of mine\n";
  beforeAll(async () => {
    cli = cliWorkspace();
    expect((await cli.run(["user", "add", "j.smith", "--name", "Jane Smith", "--partner", "01234"], { stdin: PASSWORD })).code).toBe(0);
  });
  afterAll(() => cli?.remove());

  it("a SQLite file another process holds past the busy timeout: one line saying the database is busy, exit 1, no stack, no log record", async () => {
    const holder = new Database(join(cli.dir, "famos.db"));
    holder.exec("BEGIN EXCLUSIVE");
    try {
      const [unlock, show] = await Promise.all([cli.run(["user", "unlock", "j.smith"]), cli.run(["user", "show", "j.smith"])]);
      for (const result of [unlock, show]) {
        expect(result.stderr).not.toMatch(/^\s+at /m);
        expect(result.stderr).not.toContain('{"level"');
        expect(result.stderr).not.toContain("lost the connection");
      }
      expect(unlock.code).toBe(1);
      expect(unlock.stderr).toMatch(/^famos: the database sqlite:\S+ is busy: another process kept it locked past the wait of 5 s \(database is locked\); .*run the command again in a moment\n$/);
      expect(show.stdout).toContain("Jane Smith");
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    const audit = await cli.run(["audit", "--event", "unlock"]);
    expect(audit.stdout).toBe("");
  });
});
