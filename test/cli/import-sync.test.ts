import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/** Issue 11: `famos user import --sync [--dry-run]` disables exactly the missing staff of the partners in the file. */
describe.each(DIALECTS)("user import --sync on %s", (dialect: TestDialect) => {
  let cli: CliWorkspace;
  let database: TestDatabase;
  let store: Store;
  const hash = bcryptHash("correct horse battery staple");
  const row = (login: string, partner: string) => `${login},Name ${login},${partner},user,,${hash}`;
  const file = (name: string, rows: string[]) => {
    const path = join(cli.dir, name);
    writeFileSync(path, [HEADER, ...rows].join("\n"));
    return path;
  };
  // One real `famos` process per exit code (0, 1, 2) as the shell sees it, on SQLite; every other run
  // is the same command through main() in this process (cli.inProcess), checked as before.
  const run = (args: string[], real = false) => {
    const env = { FAMOS_DATABASE_URL: database.url };
    return real && dialect === "sqlite" ? cli.run(args, { env }) : cli.inProcess(args, { env });
  };
  const disabled = async () =>
    (await store.db.selectFrom("users").select("login_id").where("disabled_at", "is not", null).orderBy("login_key").execute()).map((u) => u.login_id);

  beforeAll(async () => {
    cli = cliWorkspace();
    database = await testDatabase(dialect, `sync_${dialect}`);
    const all = ["a1", "a2", "a3", "b1", "b2", "b3", "c1"].map((id) => row(id, id.startsWith("a") ? "0100" : id.startsWith("b") ? "0200" : "0300"));
    const added = await run(["user", "import", file("all.csv", all)], true);
    expect(added.code, added.stderr).toBe(0);
    store = openStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
    cli?.remove();
  });

  it("lists who would be disabled in a dry run and changes nothing, then disables exactly those", async () => {
    // Partner 0100 lost a2; partner 0200 lost b1 and b3 and hired b4; partner 0300 is not in the file.
    const staff = file("staff.csv", [row("a1", "0100"), row("A3", "0100"), row("b2", "0200"), row("b4", "0200")]);
    const dry = await run(["user", "import", staff, "--sync", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("3 users of the 2 partners in the file would be disabled");
    expect(dry.stdout.match(/^ {2}\S+/gm)).toEqual(["  a2", "  b1", "  b3"]);
    expect(await disabled()).toEqual([]);
    expect(await store.db.selectFrom("users").select("login_id").where("login_key", "=", "b4").execute()).toEqual([]);

    const real = await run(["user", "import", staff, "--sync"]);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain("4 rows taken (1 added, 0 updated, 3 unchanged)");
    expect(real.stdout).toContain("3 users missing from the file disabled");
    expect(await disabled()).toEqual(["a2", "b1", "b3"]);

    // Run again: nobody else.
    const again = await run(["user", "import", staff, "--sync", "--update"]);
    expect(again.stdout).toContain("0 users missing from the file disabled");
    expect(await disabled()).toEqual(["a2", "b1", "b3"]);
  });

  it("disables nobody when a row of the file is refused", async () => {
    const broken = file("broken.csv", [row("a1", "0100"), "a3,Name,0100,user,,not-a-hash"]);
    const result = await run(["user", "import", broken, "--sync"], true);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("No user was disabled");
    expect(await disabled()).toEqual(["a2", "b1", "b3"]);
    // --dry-run without --sync is a usage error (SPEC: exit 2), whatever the file holds.
    const dry = await run(["user", "import", broken, "--dry-run"], true);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toBe("famos: --dry-run goes with --sync\n");
  });

  it("a dry run names the rows the real run refuses, a look-alike login ID of a new account among them (it reads the accounts for it)", async () => {
    // "jаne" with a Cyrillic а: a new account the real run refuses; "a1" exists and is kept; line 4 is refused by the file check.
    const staff = file("lookalike.csv", [row("a1", "0100"), row("j\u0430ne", "0100"), "a3,Name,0100,user,,not-a-hash"]);
    const dry = await run(["user", "import", staff, "--sync", "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toMatch(/^2 rows are refused: a real run disables nobody until the file is fixed\.\n {2}line 3: the login ID must not mix letters of different scripts[^\n]*\n {2}line 4: [^\n]+\n$/);
    const real = await run(["user", "import", staff, "--sync"]);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain("line 3: the login ID must not mix letters of different scripts");
    expect(real.stderr).toContain("No user was disabled");
  });

  it("keeps the last enabled administrator missing from the file (exit 1, said, not listed as disabled) and disables the others", async () => {
    // Partner 0400: its administrator, the only one of the database, and two staff; the file names one.
    const added = await run(["user", "import", file("d.csv", [`d.admin,Name d.admin,0400,admin,,${hash}`, row("d1", "0400"), row("d2", "0400")])]);
    expect(added.code, added.stderr).toBe(0);
    // The dry run says what the real run does: d2 would be disabled, d.admin kept (the same rule, the same words).
    const dry = await run(["user", "import", file("d-sync.csv", [row("d1", "0400")]), "--sync", "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toBe("Dry run: 1 user of the 1 partner in the file would be disabled:\n  d2 (Name d2, partner 0400)\n");
    expect(dry.stderr).toBe("d.admin would not be disabled: This is the last administrator: make another account an administrator first.\n");
    expect(await disabled()).toEqual(["a2", "b1", "b3"]);
    const result = await run(["user", "import", file("d-sync.csv", [row("d1", "0400")]), "--sync"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("d.admin was not disabled: This is the last administrator: make another account an administrator first.\n");
    expect(result.stdout).toContain("1 user missing from the file disabled:\n  d2 (Name d2, partner 0400)\n");
    expect(await disabled()).toEqual(["a2", "b1", "b3", "d2"]);
    expect(await store.db.selectFrom("audit").select("subject").where("event", "=", "user.disabled").where("subject", "=", "d.admin").execute()).toEqual([]);
  });

  it("with every enabled administrator missing, the dry run and the real run disable the same ones and keep the same last one", async () => {
    // Enabled administrators now: d.admin (0400), e.admin and f.admin (0500); the files name none of them.
    const added = await run(["user", "import", file("e.csv", [`e.admin,Name e.admin,0500,admin,,${hash}`, `f.admin,Name f.admin,0500,admin,,${hash}`, row("e1", "0500")])]);
    expect(added.code, added.stderr).toBe(0);
    const staff = file("ef-sync.csv", [row("d1", "0400"), row("e1", "0500")]);
    const dry = await run(["user", "import", staff, "--sync", "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.stdout.match(/^ {2}\S+/gm)).toEqual(["  d.admin", "  e.admin"]);
    expect(dry.stderr).toBe("f.admin would not be disabled: This is the last administrator: make another account an administrator first.\n");
    expect(await disabled()).toEqual(["a2", "b1", "b3", "d2"]);
    const real = await run(["user", "import", staff, "--sync"]);
    expect(real.code).toBe(1);
    expect(real.stdout.match(/^ {2}\S+/gm)).toEqual(["  d.admin", "  e.admin"]);
    expect(real.stderr).toBe("f.admin was not disabled: This is the last administrator: make another account an administrator first.\n");
    expect(await disabled()).toEqual(["a2", "b1", "b3", "d.admin", "d2", "e.admin"]);
  });

  it("counts an administrator the file adds: the dry run would disable the one it replaces, as the real run does", async () => {
    // f.admin is the only enabled administrator; the file for partner 0500 leaves them out and adds g.admin.
    const staff = file("g-sync.csv", [row("e1", "0500"), `g.admin,Name g.admin,0500,admin,,${hash}`]);
    const dry = await run(["user", "import", staff, "--sync", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe("Dry run: 1 user of the 1 partner in the file would be disabled:\n  f.admin (Name f.admin, partner 0500)\n");
    const real = await run(["user", "import", staff, "--sync"]);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain("1 user missing from the file disabled:\n  f.admin (Name f.admin, partner 0500)\n");
  });

  it("disables an administrator missing beside staff while another administrator stays enabled, in the dry run and the real run", async () => {
    // Partner 0700: j.admin and two staff; g.admin (0500) stays enabled. The file names j1 only, so the
    // missing are one administrator and one plain user: the administrator is not the last and goes too.
    const added = await run(["user", "import", file("j.csv", [`j.admin,Name j.admin,0700,admin,,${hash}`, row("j1", "0700"), row("j2", "0700")])]);
    expect(added.code, added.stderr).toBe(0);
    const staff = file("j-sync.csv", [row("j1", "0700")]);
    const dry = await run(["user", "import", staff, "--sync", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.match(/^ {2}\S+/gm)).toEqual(["  j.admin", "  j2"]);
    const real = await run(["user", "import", staff, "--sync"]);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout.match(/^ {2}\S+/gm)).toEqual(["  j.admin", "  j2"]);
    expect(await store.db.selectFrom("users").select("login_id").where("role", "=", "admin").where("disabled_at", "is", null).execute()).toEqual([{ login_id: "g.admin" }]);
  });

  it("with --update, the dry run counts the administrators the file demotes and promotes, as the real run's import changes them before it disables", async () => {
    // Enabled administrators: g.admin (0500), h.admin and i.admin (0600).
    const added = await run(["user", "import", file("hi.csv", [`h.admin,Name h.admin,0600,admin,,${hash}`, `i.admin,Name i.admin,0600,admin,,${hash}`, row("h1", "0600")])]);
    expect(added.code, added.stderr).toBe(0);
    const KEPT = (login: string, would: boolean) => `${login} ${would ? "would not be" : "was not"} disabled: This is the last administrator: make another account an administrator first.\n`;

    // The file demotes g.admin and leaves out h.admin and i.admin: after the demotion one of them is the last.
    const demoting = file("demote-sync.csv", [row("e1", "0500"), `g.admin,Name g.admin,0500,user,,${hash}`, row("h1", "0600")]);
    const kept = await run(["user", "import", demoting, "--sync", "--dry-run"]);
    expect(kept.stdout.match(/^ {2}\S+/gm), "without --update the file changes no role").toEqual(["  h.admin", "  i.admin"]);
    const dry = await run(["user", "import", demoting, "--sync", "--update", "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toBe("Dry run: 1 user of the 2 partners in the file would be disabled:\n  h.admin (Name h.admin, partner 0600)\n");
    expect(dry.stderr).toBe(KEPT("i.admin", true));
    const real = await run(["user", "import", demoting, "--sync", "--update"]);
    expect(real.code).toBe(1);
    expect(real.stdout).toContain("1 user missing from the file disabled:\n  h.admin (Name h.admin, partner 0600)\n");
    expect(real.stderr).toBe(KEPT("i.admin", false));

    // A file demoting the last enabled administrator: the real run refuses that row and disables nobody; the dry run says so.
    // h1 made support is no administrator's demotion, and is not refused.
    const last = file("demote-last.csv", [`i.admin,Name i.admin,0600,user,,${hash}`, `h1,Name h1,0600,support,,${hash}`]);
    const refusedRow = 'line 2: "i.admin": This is the last administrator: make another account an administrator first.\n';
    const dryLast = await run(["user", "import", last, "--sync", "--update", "--dry-run"]);
    expect(dryLast.code).toBe(1);
    expect(dryLast.stdout).toBe("Dry run: 0 users of the 1 partner in the file would be disabled.\n");
    expect(dryLast.stderr).toBe(`1 row is refused: a real run disables nobody until the file is fixed.\n  ${refusedRow}`);
    const realLast = await run(["user", "import", last, "--sync", "--update"]);
    expect(realLast.code).toBe(1);
    expect(realLast.stderr).toContain(`1 row refused:\n  ${refusedRow}No user was disabled`);

    // A file promoting e1 and leaving out i.admin, the last: after the promotion i.admin may go.
    const promoting = file("promote-sync.csv", [`e1,Name e1,0500,admin,,${hash}`, row("h1", "0600")]);
    const dryPromote = await run(["user", "import", promoting, "--sync", "--update", "--dry-run"]);
    expect(dryPromote.code, dryPromote.stderr).toBe(0);
    expect(dryPromote.stdout.match(/^ {2}\S+/gm)).toEqual(["  g.admin", "  i.admin"]);
    const realPromote = await run(["user", "import", promoting, "--sync", "--update"]);
    expect(realPromote.code, realPromote.stderr).toBe(0);
    expect(realPromote.stdout.match(/^ {2}\S+/gm)).toEqual(["  g.admin", "  i.admin"]);
  });
});
