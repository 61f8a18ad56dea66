import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * An operator's commonest first mistake is FAMOS_DATABASE_URL: a server not running, a database not
 * made, a path that cannot be a file. Every command that opens the database answers with one line that
 * names the database (its password hidden) and what went wrong, and exits 1; never a stack trace.
 */
describe("a database that cannot be used", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
    writeFileSync(join(cli.dir, "plain-file"), "not a directory\n");
  });
  afterAll(() => cli?.remove());

  const cases = [
    { what: "nothing listens", url: "postgres://famos:hunter2@127.0.0.1:1/famos", says: /ECONNREFUSED/ },
    { what: "no such database", url: "postgres://postgres@127.0.0.1:5432/famos_no_such_database", says: /database "famos_no_such_database" does not exist/ },
    { what: "a SQLite path under a plain file", url: () => `sqlite:${join(cli.dir, "plain-file", "famos.db")}`, says: /EEXIST.*plain-file/ },
    { what: "a SQLite file that is no database", url: () => `sqlite:${join(cli.dir, "plain-file")}`, says: /not a database/ },
  ];

  it("does not blame the database for a fault elsewhere: the development secret's ./data that cannot be made", async () => {
    const elsewhere = cliWorkspace();
    try {
      writeFileSync(join(elsewhere.dir, "data"), "a file where the data directory would go\n");
      const result = await elsewhere.run(["user", "show", "demo"], { env: { FAMOS_SECRET: "", FAMOS_DATABASE_URL: `sqlite:${join(elsewhere.dir, "db", "famos.db")}` } });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("./data");
      expect(result.stderr).not.toContain("cannot use the database");
    } finally {
      elsewhere.remove();
    }
  });

  for (const { what, url, says } of cases) {
    for (const command of [["migrate"], ["user", "show", "demo"], ["serve"]]) {
      it(`${what}: famos ${command.join(" ")} says so in one line and exits 1`, async () => {
        const databaseUrl = typeof url === "function" ? url() : url;
        const result = await cli.run(command, { env: { FAMOS_DATABASE_URL: databaseUrl, FAMOS_PORT: "0" } });
        expect(result.code, result.stderr).toBe(1);
        const lines = result.stderr.trim().split("\n").filter((line) => line.startsWith("famos: "));
        expect(lines, result.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^famos: cannot use the database .+: .+; check FAMOS_DATABASE_URL \(famos doctor tells more\)$/);
        expect(lines[0]).toMatch(says);
        expect(result.stderr).not.toMatch(/^\s+at /m);
        expect(result.stderr).not.toContain("hunter2");
      });
    }
  }
});
