import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { holdWrites, type Hold } from "../store/hold-writes.ts";
import { migratedTestDatabase, testDatabase, type TestDatabase } from "../store/dialects.ts";
import { TEST_SECRET } from "../support/app.ts";
import { freePort } from "../support/nginx.ts";
import { runFamos, START_WITHIN_MS, type Exit, type FamosCommand } from "../support/server-process.ts";
import { until } from "../support/until.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliResult, type CliWorkspace } from "./run-famos.ts";

const PASSWORD = "a long and unusual passphrase 7";

/**
 * Two operators (or a script run twice) adding one login ID at the same instant, on PostgreSQL where
 * the commands run as separate processes on one database: both read that the login ID is free before
 * either writes. The unique index decides; the loser gets the refusal it gets when it comes later
 * ("already exists", exit 1, nothing changed), never the driver's duplicate-key stack trace.
 */
describe("famos user add and user import of one login ID at once (postgres)", () => {
  let cli: CliWorkspace;
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    cli = cliWorkspace();
    database = await migratedTestDatabase("postgres", "user_races");
    env = { FAMOS_DATABASE_URL: database.url };
    const store = openStore(database.url);
    await migrateToLatest(store);
    await store.close();
  });
  afterAll(async () => {
    cli?.remove();
    await database?.drop();
  });

  async function stored(loginKey: string) {
    const store = openStore(database.url);
    try {
      const users = await store.db.selectFrom("users").select(["full_name"]).where("login_key", "=", loginKey).execute();
      const created = await store.db.selectFrom("audit").select("detail").where("event", "=", "user.created").where("subject", "ilike", loginKey).execute();
      return { names: users.map((u) => u.full_name), created: created.length };
    } finally {
      await store.close();
    }
  }

  const add = (loginId: string, name: string, extra: Record<string, string>) =>
    cli.run(["user", "add", loginId, "--name", name, "--partner", "1"], { stdin: `${PASSWORD}\n`, env: { ...env, ...extra } });

  function refusedAsExisting(result: CliResult, loginId: string): void {
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe(`famos: a user with login ID "${loginId}" already exists\n`);
    expect(result.stdout).toBe("");
  }

  /**
   * Starts each run once the ones before it wait at a lock (or are done), then releases them all:
   * the order in which they meet is the test's, not the scheduler's.
   */
  async function inTurn(hold: Hold, starts: Array<() => Promise<CliResult>>): Promise<CliResult[]> {
    const runs: Promise<CliResult>[] = [];
    try {
      for (const start of starts) {
        let done = false;
        runs.push(start().finally(() => (done = true)));
        await until(`run ${runs.length} at a lock, or done`, async () => done || (await hold.waiting()) === runs.length, 20_000);
      }
    } finally {
      await hold.release();
    }
    return Promise.all(runs);
  }

  it("two adds: one adds the user, the other refuses with exit 1 and changes nothing", async () => {
    // Both find the login ID free and wait at their insert.
    const hold = await holdWrites(database.url, "users");
    const [first, second] = await inTurn(hold, [() => add("Jane.Race", "First Jane", hold.env), () => add("jane.race", "Second Jane", hold.env)]);
    const [won, lost] = first!.code === 0 ? [first!, second!] : [second!, first!];
    expect(won.code, won.stderr).toBe(0);
    refusedAsExisting(lost, lost === first ? "Jane.Race" : "jane.race");
    const { names, created } = await stored("jane.race");
    expect(names).toEqual([won === first ? "First Jane" : "Second Jane"]);
    expect(created).toBe(1);
  });

  it("an import that takes the login ID first: the add refuses with exit 1", async () => {
    const path = join(cli.dir, "one.csv");
    writeFileSync(path, `${HEADER}\nImported.Race,Imported Race,2,,,${bcryptHash("a password of some length")}\n`);
    // The import's transaction has inserted the user and waits to write its audit event; the add then
    // finds the login ID free (not committed yet) and waits at its insert for the import's outcome.
    const hold = await holdWrites(database.url, "audit");
    const [imported, added] = await inTurn(hold, [() => cli.run(["user", "import", path], { env: { ...env, ...hold.env } }), () => add("imported.race", "Added Race", hold.env)]);
    expect(imported!.code, imported!.stderr).toBe(0);
    expect(imported!.stdout).toContain("1 row taken (1 added)");
    refusedAsExisting(added!, "imported.race");
    expect(await stored("imported.race")).toEqual({ names: ["Imported Race"], created: 1 });
  });

  it("an add that takes the login ID first: the import refuses the row, as for any existing user", async () => {
    const path = join(cli.dir, "two.csv");
    writeFileSync(path, `${HEADER}\nAdded.First,Imported Later,2,,,${bcryptHash("a password of some length")}\n`);
    // The add has inserted the user and waits to write its audit event; the import waits at its insert.
    const hold = await holdWrites(database.url, "audit");
    const [added, imported] = await inTurn(hold, [() => add("Added.First", "Added First", hold.env), () => cli.run(["user", "import", path], { env: { ...env, ...hold.env } })]);
    expect(added!.code, added!.stderr).toBe(0);
    expect(imported!.code).toBe(1);
    expect(imported!.stderr).toContain('line 2: a user with login ID "Added.First" already exists');
    expect(await stored("added.first")).toEqual({ names: ["Added First"], created: 1 });
  });
});

/**
 * Two instances started at once on one empty PostgreSQL database (a deployment's first start, two
 * replicas): both migrate, both find no user and create the demo user of development mode. One
 * creates it and prints its password; the other starts as when the user was there, never crashing.
 */
describe("two instances starting at once on one empty database (postgres)", () => {
  let database: TestDatabase;
  const servers: FamosCommand[] = [];

  beforeAll(async () => {
    database = await testDatabase("postgres", "demo_races");
  });
  // SIGKILL, all at once: nothing here is about the stop, and a graceful one waits its drain's 2 s
  // quiet interval (src/web/drain.ts) per instance.
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map((server) => {
        server.child.kill("SIGKILL");
        return server.exited;
      }),
    );
  });
  afterAll(async () => database?.drop());

  async function start(extra: Record<string, string> = {}) {
    const port = await freePort();
    const server = runFamos(["serve"], { FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url, FAMOS_HOST: "127.0.0.1", FAMOS_PORT: String(port), FAMOS_RATE_LIMIT: "0", ...extra });
    servers.push(server);
    return { server, url: `http://127.0.0.1:${port}` };
  }

  async function up({ server, url }: Awaited<ReturnType<typeof start>>): Promise<void> {
    let exit: Exit | null = null;
    void server.exited.then((e) => (exit = e));
    // Two processes starting and migrating at once on a loaded 2-core machine took over 20 s once in CI
    // (load 20): startServer's bound; an instance that exits fails at once.
    await until(`famos serve at ${url}`, async () => exit ?? (await fetch(`${url}/healthz`)).ok, START_WITHIN_MS);
    if (exit) throw new Error(`famos serve exited (${JSON.stringify(exit)}):\n${server.stderr()}`);
  }

  it("both migrate and come up", { timeout: 60_000 }, async () => {
    const both = [await start(), await start()];
    await Promise.all(both.map(up));
  });

  it("one creates the demo user and prints its password; the other comes up without it", { timeout: 60_000 }, async () => {
    // The first test's demo user gone: the database is as empty as at a first start, and migrated.
    const store = openStore(database.url);
    await store.db.deleteFrom("users").execute();
    await store.close();
    const hold = await holdWrites(database.url, "users");
    // The insert waits at the held lock until both are there: on a loaded machine the second instance's
    // start takes longer than FAMOS_DATABASE_TIMEOUT (5 s), which would end the first's waiting insert
    // ("Query read timeout") and the instance with it. The bound itself is tested in store/statement-bound.
    const env = { ...hold.env, FAMOS_DATABASE_TIMEOUT: "2m" };
    const both = [await start(env)];
    try {
      await until("the first instance at the demo user's insert", async () => (await hold.waiting()) === 1, 30_000);
      both.push(await start(env));
      await until("both instances at the demo user's insert", async () => (await hold.waiting()) === 2, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${both.map(({ server }, i) => `instance ${i + 1}: ${server.stderr()}`).join("\n")}`);
      });
    } finally {
      await hold.release();
    }
    await Promise.all(both.map(up));
    const told = both.filter(({ server }) => server.stderr().includes('Demo user: login ID "demo"'));
    expect(told).toHaveLength(1);
  });
});
