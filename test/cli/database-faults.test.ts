import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_TEST_SERVER, postgresTestUrl } from "../support/services.ts";
import { until } from "../support/until.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { withSilentServer } from "../support/silent-server.ts";
import { cliWorkspace, type CliResult, type CliWorkspace } from "./run-famos.ts";

/**
 * An operator's commonest first mistake is FAMOS_DATABASE_URL: a server not running, a database not
 * made, a path that cannot be a file. Every command that opens the database answers with one line that
 * names the database (its password hidden) and what went wrong, and exits 1; never a stack trace.
 */
// Each test runs its command against a fault of its own (or the same fault, read only): they are
// independent, so a describe's tests run at once (describe.concurrent) rather than one after another;
// every command still runs, whole, and is checked as before. A real `famos` process is what shows the
// exit code as the shell sees it: `serve` always runs as one (in this process it would take the
// worker's signals), and so do the first fault's migrate and user show; the other faults' migrate and
// user show, the same commands with the same checks, run through main() in this process (cli.inProcess).
describe.concurrent("a database that cannot be used", () => {
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
      const databaseUrl = `sqlite:${join(elsewhere.dir, "db", "famos.db")}`;
      // A database that is there: a command refuses to make one (test/cli/new-database.test.ts).
      // Made in this process; the command under test runs as a process in the workspace (./data is the cwd's).
      expect((await elsewhere.inProcess(["migrate"], { env: { FAMOS_DATABASE_URL: databaseUrl } })).code).toBe(0);
      const result = await elsewhere.run(["user", "show", "demo"], { env: { FAMOS_SECRET: "", FAMOS_DATABASE_URL: databaseUrl } });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("./data");
      expect(result.stderr).not.toContain("cannot use the database");
    } finally {
      elsewhere.remove();
    }
  });

  for (const [index, { what, url, says }] of cases.entries()) {
    for (const command of [["migrate"], ["user", "show", "demo"], ["serve"]]) {
      it(`${what}: famos ${command.join(" ")} says so in one line and exits 1`, async () => {
        const databaseUrl = typeof url === "function" ? url() : url;
        const env = { FAMOS_DATABASE_URL: databaseUrl, FAMOS_PORT: "0" };
        const real = index === 0 || command[0] === "serve";
        expectCannotUse(await (real ? cli.run(command, { env }) : cli.inProcess(command, { env })), says);
      });
    }
  }
});

/** One line naming the database (its password hidden) and what went wrong, exit 1, no stack trace. */
function expectCannotUse(result: CliResult, says: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trim().split("\n").filter((line) => line.startsWith("famos: "));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^famos: cannot use the database .+: .+; check FAMOS_DATABASE_URL \(famos doctor tells more\)$/);
  expect(lines[0]).toMatch(says);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain("hunter2");
}

/**
 * A host that takes the connection and never answers (a hung server, a firewall or proxy that swallows
 * the handshake, a wrong port that belongs to something else): the commands whose statements are not
 * bounded still give up on the connection, within FAMOS_DATABASE_TIMEOUT (here its least, 100 ms, not
 * the default 5 s: test/store/connection-timeout has the bound itself), and say so as for a server not running.
 */
describe.concurrent("a PostgreSQL address that takes the connection and never answers", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
  });
  afterAll(() => cli?.remove());

  // serve as a real process (the exit code the shell sees); migrate and user role through main() here.
  for (const command of [["migrate"], ["user", "role", "demo", "admin"], ["serve"]]) {
    it(`famos ${command.join(" ")} gives up on the connection, says so in one line and exits 1`, async () => {
      await withSilentServer(async (port) => {
        const env = { FAMOS_DATABASE_URL: `postgres://famos:hunter2@127.0.0.1:${port}/famos`, FAMOS_DATABASE_TIMEOUT: "100ms", FAMOS_PORT: "0" };
        const result = await (command[0] === "serve" ? cli.run(command, { env }) : cli.inProcess(command, { env }));
        expectCannotUse(result, /connection timeout/);
      });
    }, 60_000);
  }
});

/**
 * The commonest fault of a container or service install: the SQLite file or its directory belongs to
 * another user than the one famos runs as (made by root, run by a service account), or sits on a
 * read-only mount. SQLite says only "unable to open database file" or "attempt to write a readonly
 * database"; famos says what this process may not do, to which path, and what to do about it. As root
 * (CI), famos runs as nobody on what root made; as anyone else, on what was made unwritable to its owner.
 */
describe("a SQLite file or directory the user running famos may not use", () => {
  const root = process.getuid?.() === 0;
  const as = root ? { prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] } : {};
  const cases = [
    { what: "a file it may not read", file: root ? 0o600 : 0o000, dir: root ? 0o777 : 0o755, names: "read and write", path: "famos.db" },
    { what: "a file it may only read", file: root ? 0o644 : 0o444, dir: root ? 0o777 : 0o755, names: "read and write", path: "famos.db" },
    { what: "a directory it may not write", file: 0o666, dir: root ? 0o755 : 0o555, names: "write in", path: "" },
  ];
  for (const { what, file, dir, names, path } of cases) {
    describe.concurrent(what, () => {
      let cli: CliWorkspace;
      beforeAll(async () => {
        cli = cliWorkspace();
        // Made by this process's user (as the real processes below are not), through main() in this process.
        const made = await cli.inProcess(["migrate"]);
        expect(made.code, made.stderr).toBe(0);
        expect(existsSync(join(cli.dir, "famos.db-wal")), "the last connection's close removes the log").toBe(false);
        chmodSync(join(cli.dir, "famos.db"), file);
        chmodSync(cli.dir, dir);
      });
      afterAll(() => {
        chmodSync(cli.dir, 0o700);
        chmodSync(join(cli.dir, "famos.db"), 0o600);
        cli.remove();
      });

      for (const command of [["migrate"], ["user", "show", "demo"], ["serve"]]) {
        it(`famos ${command.join(" ")} names what it may not do, and where, in one line, and exits 1`, async () => {
          const result = await cli.run(command, { ...as, env: { FAMOS_PORT: "0" } });
          expect(result.code, result.stderr).toBe(1);
          const lines = result.stderr.trim().split("\n").filter((line) => line.startsWith("famos: "));
          expect(lines, result.stderr).toHaveLength(1);
          expect(lines[0]).toContain(`cannot use the database ${cli.databaseUrl}`);
          expect(lines[0]).toContain(`this process (${root ? "user nobody, uid 65534" : "user"}`);
          expect(lines[0]).toContain(`may not ${names} ${join(cli.dir, path)} (`);
          expect(lines[0]).toMatch(/give .+ to the user that runs famos/);
          expect(result.stderr).not.toMatch(/^\s+at /m);
        });
      }

      it("famos doctor fails the database check with the same words", async () => {
        const result = await cli.run(["doctor"], as);
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(new RegExp(`^database +FAIL +this process \\(.+\\) may not ${names} ${join(cli.dir, path).replaceAll("/", "\\/")} \\(`, "m"));
      });
    });
  }
});

/**
 * A read-only install whose database is on a read-only mount too (a volume mounted `:ro`, a
 * `--read-only` container without its data volume): famos says it is a read-only file system. The
 * mount is made read-only in a mount namespace of the command's own (unshare; as a user other than
 * root, in a user namespace too), so nothing else sees it.
 */
describe.concurrent("a SQLite database on a read-only file system", () => {
  let cli: CliWorkspace;
  let readOnly: { prefix: string[] };
  beforeAll(async () => {
    cli = cliWorkspace();
    const made = await cli.inProcess(["migrate"]);
    expect(made.code, made.stderr).toBe(0);
    const remount = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"';
    readOnly = { prefix: ["unshare", process.getuid?.() === 0 ? "-m" : "-rm", "sh", "-c", remount, cli.dir] };
  });
  afterAll(() => cli?.remove());

  for (const command of [["migrate"], ["user", "show", "demo"], ["serve"], ["doctor"]]) {
    it(`famos ${command.join(" ")} names the read-only file system and exits 1`, async () => {
      const result = await cli.run(command, { ...readOnly, env: { FAMOS_PORT: "0" } });
      expect(result.code, result.stderr).toBe(1);
      const said = `${cli.dir} is on a read-only file system: set FAMOS_DATABASE_URL to a file on a volume famos may write`;
      if (command[0] === "doctor") expect(result.stdout).toMatch(new RegExp(`^database +FAIL +${said.replaceAll("/", "\\/")}$`, "m"));
      else expect(result.stderr).toBe(`famos: cannot use the database ${cli.databaseUrl}: ${said}\n`);
    });
  }
});

/**
 * The database lost in the middle of a command (PostgreSQL restarted, failed over, the backend ended by
 * an administrator): one line that says what happened and what to do, exit 1, never a stack trace.
 */
describe("a database lost in the middle of a command", () => {
  it("famos user import says the connection was lost and to run it again with --resume, which finishes it", async () => {
    const cli = cliWorkspace();
    const schema = await postgresTestUrl("lost_midway");
    const admin = new pg.Client({ connectionString: POSTGRES_TEST_SERVER });
    const watcher = new pg.Client({ connectionString: POSTGRES_TEST_SERVER });
    await admin.connect();
    await watcher.connect();
    try {
      const env = { FAMOS_DATABASE_URL: schema.url };
      expect((await cli.inProcess(["migrate"], { env })).code).toBe(0);
      const hash = bcryptHash("a long passphrase of mine");
      const rows = Array.from({ length: 1200 }, (_, i) => `lost${i},Lost ${i},4711,,,${hash}`);
      const file = join(cli.dir, "staff.csv");
      writeFileSync(file, `${HEADER}\n${rows.join("\n")}\n`);
      // The import's statements wait on a lock held here, so its connection is ended while it is in use.
      const lockerPid = (await admin.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
      await admin.query("begin");
      await admin.query(`lock table "${schema.schema}".users in access exclusive mode`);
      const running = cli.run(["user", "import", file], { env });
      const blocked = await until("the import waiting on the users table", async () => {
        // Not in the locking transaction: the activity view is read once per transaction.
        const found = await watcher.query<{ pid: number }>("select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))", [lockerPid]);
        return found.rows.length > 0 ? found.rows.map((row) => row.pid) : null;
      }, 30_000);
      for (const pid of blocked) await watcher.query("select pg_terminate_backend($1)", [pid]);
      await admin.query("rollback");
      const result = await running;
      expect(result.code, result.stderr).toBe(1);
      const lines = result.stderr.trim().split("\n").filter((line) => line.startsWith("famos: "));
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^famos: lost the connection to the database postgres:\/\/.+ in the middle of the work \(.+\); what was committed before stays: run it again with --resume once the database answers \(famos doctor tells more\)$/);
      expect(result.stderr).not.toMatch(/^\s+at /m);

      // The interrupted import is the real process (its exit code); the resume runs through main() here.
      const resumed = await cli.inProcess(["user", "import", file, "--resume"], { env });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/^1200 rows taken \(\d+ added, \d+ already there\)\.$/m);
    } finally {
      await admin.query("rollback").catch(() => undefined);
      await admin.end();
      await watcher.end();
      await schema.drop();
      cli.remove();
    }
  }, 60_000);
});

/**
 * A FAMOS_DATABASE_URL that is no address FAMOS can use: not a URL at all (a stray bracket, a port past
 * 65535), a ?schema= that is empty or not a lower-case identifier, another kind of database. It is a
 * setting's fault, told with the others before anything is opened, its password hidden.
 */
describe.concurrent("a FAMOS_DATABASE_URL that cannot be used as written", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
  });
  afterAll(() => cli?.remove());

  const urls = [
    "postgres://famos:hunter2@[db.internal/famos",
    "postgres://famos:hunter2@127.0.0.1:99999/famos",
    "postgres://famos:hunter2@127.0.0.1:5432/test?schema=",
    "postgres://famos:hunter2@127.0.0.1:5432/test?schema=Dealer-Staff",
    "mysql://famos:hunter2@db.internal/famos",
  ];
  // The first as a real process (process.exit(1) as the shell sees it), the others through main() here.
  for (const [index, url] of urls.entries()) {
    it(`${url.replace("hunter2", "…")}: named among the settings to fix, exit 1, no stack, no password`, async () => {
      const run = index === 0 ? cli.run : cli.inProcess;
      const result = await run(["user", "show", "demo"], { env: { FAMOS_DATABASE_URL: url } });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/^FAMOS cannot start; fix these settings:\n {2}- FAMOS_DATABASE_URL: .+\n$/);
      expect(result.stderr).not.toContain("hunter2");
    });
  }
});

describe("a directory the user running famos may not write, before the first famos migrate", () => {
  const root = process.getuid?.() === 0;
  const as = root ? { prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] } : {};
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
    chmodSync(cli.dir, root ? 0o755 : 0o555);
  });
  afterAll(() => {
    chmodSync(cli.dir, 0o700);
    cli.remove();
  });

  it("famos doctor says what the user may not do there, not to run famos migrate (which would fail so)", async () => {
    const result = await cli.run(["doctor"], as);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^database +FAIL +this process \\(.+\\) may not write in ${cli.dir.replaceAll("/", "\\/")} \\(`, "m"));
    const migrate = await cli.run(["migrate"], as);
    expect(migrate.stderr).toContain(`may not write in ${cli.dir} (`);
  });

  it("a database in a folder not made yet, under that directory: famos doctor and famos migrate both name the directory it may not write, in the same words", async () => {
    const env = { FAMOS_DATABASE_URL: `sqlite:${join(cli.dir, "data", "famos.db")}` };
    const doctor = await cli.run(["doctor"], { ...as, env });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(new RegExp(`^database +FAIL +this process \\(.+\\) may not write in ${cli.dir.replaceAll("/", "\\/")} \\(`, "m"));
    const migrate = await cli.run(["migrate"], { ...as, env });
    expect(migrate.code).toBe(1);
    expect(migrate.stderr.trim().split("\n")).toHaveLength(1);
    expect(migrate.stderr).toContain(`may not write in ${cli.dir} (`);
    expect(existsSync(join(cli.dir, "data"))).toBe(false);
  });
});
