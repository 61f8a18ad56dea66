import Database from "better-sqlite3";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/database.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { TEST_SECRET } from "../support/app.ts";
import { runFamos } from "../support/server-process.ts";
import { until } from "../support/until.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

// Rows are committed 500 at a time: 2,000 rows of which the first 1,200 are in give --resume whole
// batches already there, one in part and one all new.
const ROWS = 2000;
const TAKEN_BEFORE = 1200;

describe.each(DIALECTS)("famos user import --resume and --email-as-contact (%s)", (dialect) => {
  let cli: CliWorkspace;
  let database: TestDatabase;
  let env: Record<string, string>;
  const file = (name: string, from: number, to: number, email = (i: number) => (i % 2 ? `staff${i}@dealer.example` : "")) => {
    const hash = bcryptHash("a password of some length");
    const lines = [HEADER];
    for (let i = from; i < to; i += 1) lines.push(`staff${i},Staff ${i},${5000 + (i % 7)},,${email(i)},${hash}`);
    const path = join(cli.dir, name);
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  };
  const count = async (query: (store: ReturnType<typeof openStore>) => Promise<unknown[]>) => {
    const store = openStore(database.url);
    try {
      return (await query(store)).length;
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    cli = cliWorkspace();
    database = await testDatabase(dialect, "import_resume");
    env = { FAMOS_DATABASE_URL: database.url };
  });
  // One real `famos` process per exit code (0, 1, 2) as the shell sees it, on SQLite; every other run
  // is the same command through main() in this process (cli.inProcess), checked as before.
  const famos = (args: string[], real = false) => (real && dialect === "sqlite" ? cli.run(args, { env }) : cli.inProcess(args, { env }));
  afterAll(async () => {
    cli.remove();
    await database.drop();
  });

  it("takes the rest of a file after an interrupted run, each login ID once", async () => {
    const whole = file("whole.csv", 0, ROWS);
    // An earlier run stopped after its first batches: those rows are in.
    expect((await famos(["user", "import", file("part.csv", 0, TAKEN_BEFORE)], true)).code).toBe(0);

    const resumed = await famos(["user", "import", whole, "--resume"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe(`${ROWS} rows taken (${ROWS - TAKEN_BEFORE} added, ${TAKEN_BEFORE} already there).\n`);
    expect(await count((s) => s.db.selectFrom("users").select("id").execute())).toBe(ROWS);
    expect(await count((s) => s.db.selectFrom("audit").select("id").where("event", "=", "user.created").execute())).toBe(ROWS);

    // Without --resume the rows already there are refused, each with its line.
    const again = await famos(["user", "import", whole], true);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${ROWS} rows refused`);
    expect(again.stderr).toContain('line 2: a user with login ID "staff0" already exists');

    const refused = await famos(["user", "import", whole, "--resume", "--update"], true);
    expect(refused.code).toBe(2); // options that do not go together: a usage error (SPEC)
    expect(refused.stderr).toContain("give either --update or --resume, not both");
    // Imports of 2,000 rows, two of them real processes: generous on a loaded 2-core machine.
  }, 120_000);

  it("--email-as-contact keeps the addresses for the announcement; users still enrol", async () => {
    const path = file("contacts.csv", ROWS, ROWS + 10, (i) => (i % 5 === 0 ? "" : `contact${i}@dealer.example`));
    const ten = Array.from({ length: 10 }, (_, k) => `staff${ROWS + k}`);
    const result = await famos(["user", "import", path, "--email-as-contact"]);
    expect(result.code).toBe(0);
    expect(await count((s) => s.db.selectFrom("users").select("id").where("login_id", "in", ten).where("otp_email", "is not", null).execute())).toBe(0);
    expect(await count((s) => s.db.selectFrom("rollout_users").select("user_id").where("contact_email", "like", "contact%").execute())).toBe(8);
    const dry = await famos(["rollout", "announce", "--dry-run", "--partner", "5001"]);
    expect(dry.code).toBe(0);
    // Of the new rows, those in partner 5001 with an address would be mailed (the earlier ones had OTP emails or none).
    const inPartner = Array.from({ length: 10 }, (_, k) => ROWS + k).filter((i) => 5000 + (i % 7) === 5001);
    const mailable = inPartner.filter((i) => i % 5 !== 0).length;
    expect(dry.stdout).toContain(`${mailable} would be mailed`);
  }, 60_000);
});

/**
 * An operator's Ctrl-C in the middle of a long import, or a job runner's SIGTERM: the batch in hand is
 * committed, and the command says how far it got and what to run, exit 130. Before, the process ended
 * at once without a word (exit 130 or 143 from the signal), whatever it had stored.
 */
describe("famos user import stopped by Ctrl-C or SIGTERM", { timeout: 120_000 }, () => {
  let cli: CliWorkspace;
  beforeAll(async () => {
    cli = cliWorkspace();
    expect((await cli.inProcess(["migrate"])).code).toBe(0);
  });
  afterAll(() => cli?.remove());

  // SIGTERM with --sync: a file read only in part names nobody as missing from it.
  for (const [signal, sync] of [["SIGINT", false], ["SIGTERM", true]] as const) {
    it(`${signal}${sync ? " (--sync)" : ""}: stores whole batches, says how many rows are in and to run it again with --resume, exit 130`, async () => {
      const leaver = `${signal}.leaver`;
      expect((await cli.run(["user", "add", leaver, "--name", "Still Here", "--partner", "5000"], { stdin: "a long passphrase of mine\n" })).code).toBe(0);
      const hash = bcryptHash("a password of some length");
      const rows = 100_000;
      const lines = [HEADER];
      for (let i = 0; i < rows; i += 1) lines.push(`${signal}.${i},Staff ${i},${5000 + (i % 7)},,,${hash}`);
      const path = join(cli.dir, `${signal}.csv`);
      writeFileSync(path, `${lines.join("\n")}\n`);
      const database = new Database(join(cli.dir, "famos.db"), { readonly: true });
      const stored = () => (database.prepare("select count(*) as n from users where login_id like ? and login_id <> ?").get(`${signal}.%`, leaver) as { n: number }).n;
      const importing = runFamos(["user", "import", path, ...(sync ? ["--sync"] : [])], { FAMOS_DATABASE_URL: cli.databaseUrl, FAMOS_SECRET: TEST_SECRET });
      try {
        await until("the import's first batch", async () => stored() > 0, 60_000);
        importing.child.kill(signal);
        const exit = await importing.exited;
        const kept = stored();
        expect(importing.stderr()).not.toMatch(/^\s+at /m);
        expect(exit, importing.stderr()).toEqual({ code: 130, signal: null });
        expect(kept % 500).toBe(0);
        expect(kept).toBeLessThan(rows);
        expect(importing.stderr()).toContain(`famos: stopped after ${kept} of ${rows} rows (those are stored); run it again with --resume to take the rest\n`);
        expect(importing.stdout()).toBe(sync ? `${kept} rows taken (${kept} added, 0 updated, 0 unchanged).\n` : `${kept} rows taken (${kept} added).\n`);
        expect(database.prepare("select disabled_at from users where login_id = ?").get(leaver)).toEqual({ disabled_at: null });
      } finally {
        importing.child.kill("SIGKILL");
        database.close();
      }
    });
  }
});
