import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/database.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

const ROWS = 3000;
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
  afterAll(async () => {
    cli.remove();
    await database.drop();
  });

  it("takes the rest of a file after an interrupted run, each login ID once", async () => {
    const whole = file("whole.csv", 0, ROWS);
    // An earlier run stopped after its first batches: those rows are in.
    expect((await cli.run(["user", "import", file("part.csv", 0, TAKEN_BEFORE)], { env })).code).toBe(0);

    const resumed = await cli.run(["user", "import", whole, "--resume"], { env });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe(`${ROWS} rows taken (${ROWS - TAKEN_BEFORE} added, ${TAKEN_BEFORE} already there).\n`);
    expect(await count((s) => s.db.selectFrom("users").select("id").execute())).toBe(ROWS);
    expect(await count((s) => s.db.selectFrom("audit").select("id").where("event", "=", "user.created").execute())).toBe(ROWS);

    // Without --resume the rows already there are refused, each with its line.
    const again = await cli.run(["user", "import", whole], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${ROWS} rows refused`);
    expect(again.stderr).toContain('line 2: a user with login ID "staff0" already exists');

    const refused = await cli.run(["user", "import", whole, "--resume", "--update"], { env });
    expect(refused.code).toBe(2); // options that do not go together: a usage error (SPEC)
    expect(refused.stderr).toContain("give either --update or --resume, not both");
    // Five real imports of 3,000 rows: generous on a loaded 2-core machine.
  }, 120_000);

  it("--email-as-contact keeps the addresses for the announcement; users still enrol", async () => {
    const path = file("contacts.csv", ROWS, ROWS + 10, (i) => (i % 5 === 0 ? "" : `contact${i}@dealer.example`));
    const ten = Array.from({ length: 10 }, (_, k) => `staff${ROWS + k}`);
    const result = await cli.run(["user", "import", path, "--email-as-contact"], { env });
    expect(result.code).toBe(0);
    expect(await count((s) => s.db.selectFrom("users").select("id").where("login_id", "in", ten).where("otp_email", "is not", null).execute())).toBe(0);
    expect(await count((s) => s.db.selectFrom("rollout_users").select("user_id").where("contact_email", "like", "contact%").execute())).toBe(8);
    const dry = await cli.run(["rollout", "announce", "--dry-run", "--partner", "5001"], { env });
    expect(dry.code).toBe(0);
    // Of the new rows, those in partner 5001 with an address would be mailed (the earlier ones had OTP emails or none).
    const inPartner = Array.from({ length: 10 }, (_, k) => ROWS + k).filter((i) => 5000 + (i % 7) === 5001);
    const mailable = inPartner.filter((i) => i % 5 !== 0).length;
    expect(dry.stdout).toContain(`${mailable} would be mailed`);
  }, 60_000);
});
