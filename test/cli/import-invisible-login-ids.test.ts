import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { loginKey } from "../../src/users/users.ts";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

const INVISIBLE = "the login ID must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)";
/** "anna" with the emoji style selector U+FE0F: a login ID taken before every default-ignorable character was refused. */
const ANNA = "anna\ufe0f";

/**
 * The invisible-character rule of login IDs is for accounts being made, as the look-alike rule is
 * (SECURITY.md §20): an account made before it keeps its login ID, and an import row naming it is that
 * account's. Refused at the file's check, such a row could never update the account, and made every
 * --sync disable nobody ("fix the refused rows") for as long as the account lived: leavers stayed enabled.
 */
describe.each(DIALECTS)("user import and a login ID with an invisible character made before the rule, on %s", (dialect: TestDialect) => {
  let cli: CliWorkspace;
  let database: TestDatabase;
  let store: Store;
  const hash = bcryptHash("correct horse battery staple");
  const row = (login: string, name = `Name ${login.replace(/[^a-z0-9]/g, "")}`) => `${login},${name},0900,user,,${hash}`;
  const file = (name: string, rows: string[]) => {
    const path = join(cli.dir, name);
    writeFileSync(path, [HEADER, ...rows].join("\n"));
    return path;
  };
  const run = (args: string[]) => cli.inProcess(args, { env: { FAMOS_DATABASE_URL: database.url } });
  const user = (login: string) => store.db.selectFrom("users").select(["full_name", "disabled_at"]).where("login_key", "=", loginKey(login)).executeTakeFirst();

  beforeAll(async () => {
    cli = cliWorkspace();
    database = await testDatabase(dialect, `invisible_ids_${dialect}`);
    const added = await run(["user", "import", file("all.csv", [row("anna"), row("k1"), row("leaver")])]);
    expect(added.code, added.stderr).toBe(0);
    store = openStore(database.url);
    // `user add` and the import refuse it now: the account is given its old login ID in the database.
    await store.db.updateTable("users").set({ login_id: ANNA, login_key: loginKey(ANNA) }).where("login_key", "=", "anna").execute();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
    cli?.remove();
  });

  it("famos user add still refuses it for a new account", async () => {
    const run2 = await run(["user", "add", "carl\ufe0f", "--name", "Carl Two", "--partner", "0900"]);
    expect(run2.code).toBe(1);
    expect(run2.stderr).toBe(`famos: ${INVISIBLE}\n`);
    expect(await user("carl\ufe0f")).toBeUndefined();
  });

  it("--sync with a file naming the account disables the leaver missing from it, in the dry run and the real run", async () => {
    const staff = file("sync.csv", [row(ANNA), row("k1")]);
    const said = { "--dry-run": "Dry run: 1 user of the 1 partner in the file would be disabled:", "": "1 user missing from the file disabled:" };
    for (const [flag, words] of Object.entries(said)) {
      const result = await run(["user", "import", staff, "--sync", ...(flag ? [flag] : [])]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`${words}\n  leaver (Name leaver, partner 0900)\n`);
    }
    expect((await user("leaver"))?.disabled_at).not.toBeNull();
    expect((await user(ANNA))?.disabled_at).toBeNull();
  });

  it("--update: a row naming the account updates it; a row that would make a new account with such an ID is refused, in both runs", async () => {
    const staff = file("update.csv", [row(ANNA, "Anna Renamed"), row("bob\u034f"), row("k1")]);
    const dry = await run(["user", "import", staff, "--sync", "--update", "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toBe(`1 row is refused: a real run disables nobody until the file is fixed.\n  line 3: ${INVISIBLE}\n`);
    const real = await run(["user", "import", staff, "--update"]);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain(`line 3: ${INVISIBLE}`);
    expect(real.stdout).toContain("(0 added, 1 updated, 1 unchanged)");
    expect((await user(ANNA))?.full_name).toBe("Anna Renamed");
    expect(await user("bob\u034f")).toBeUndefined();
  });
});
