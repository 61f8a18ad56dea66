import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * A FAMOS_DATABASE_URL that names no database (a typo, or the default ./data/famos.db read from the
 * wrong folder): the commands that only read or change what is there refuse, exit 1, and make no
 * file, instead of making and migrating an empty database and answering from it ("no such user",
 * "0 users"). The commands that fill a new database (user add, user import) make it and say so.
 */

let cli: CliWorkspace;
beforeEach(() => {
  cli = cliWorkspace();
});
afterEach(() => cli.remove());

const file = () => cli.databaseUrl.slice("sqlite:".length);
const NONE = /^famos: there is no database at \S+famos\.db \(FAMOS_DATABASE_URL\): check the setting, or the folder famos is run from; famos migrate, famos serve, famos user add and famos user import make a new one\n$/;

// The first of each series runs as a real famos process (the exit code as the shell sees it); the
// others are the same commands through main() in this process (cli.inProcess), checked as before.
it("a command that reads or changes users refuses a database that is not there, and makes none", async () => {
  for (const [i, args] of [["user", "show", "ann"], ["rollout", "status"], ["audit"], ["user", "disable", "ann"], ["cleanup"]].entries()) {
    const result = i === 0 ? await cli.run(args) : await cli.inProcess(args);
    expect([args.join(" "), result.code]).toEqual([args.join(" "), 1]);
    expect(result.stderr).toMatch(NONE);
    expect(existsSync(file()), args.join(" ")).toBe(false);
  }
}, 120_000);

it("user import makes the database and says so once; the next command uses it without a word", async () => {
  writeFileSync(join(cli.dir, "users.csv"), `${HEADER}\nann,Ann A,4711,,ann@dealer.example,${bcryptHash("a password of some length")}\n`);
  const first = await cli.run(["user", "import", join(cli.dir, "users.csv")]);
  expect(first.code).toBe(0);
  expect(first.stderr).toMatch(/^famos: there was no database at \S+famos\.db: this command made a new one$/m);
  expect(existsSync(file())).toBe(true);
  const show = await cli.inProcess(["user", "show", "ann"]);
  expect([show.code, show.stderr]).toEqual([0, ""]);
  expect(show.stdout).toContain("ann");
}, 60_000);

it("a user add refused for its password still says it made the database, so a mistyped setting does not go unseen", async () => {
  const refused = await cli.run(["user", "add", "ann", "--name", "Ann A", "--partner", "4711"], { stdin: "short\n" });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^famos: there was no database at \S+famos\.db: this command made a new one$/m);
}, 60_000);
