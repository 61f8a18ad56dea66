import Database from "better-sqlite3";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";
import { until } from "../support/until.ts";

/**
 * What an operator at a dealer network's retail IT types, mistakes included: every refusal is one
 * plain line on standard error with exit 1 or 2, never a stack trace, and nothing is changed.
 *
 * A real `famos` process is kept where only one shows it (the exit code as the shell sees it, a
 * process.exit, standard input, a wait that blocks the process) and for the first of a series; the
 * rest are the same commands through main() in this process (cli.inProcess), checked as before.
 */
/** The system calls a thread makes to sleep (x86_64, arm64): SQLite's busy handler between its tries of a lock. */
const SLEEPS = process.arch === "arm64" ? ["101", "115"] : ["35", "230"];

/**
 * A child of this process running `famos <words…>` whose main thread sleeps (/proc/<pid>/syscall): in a
 * command that reads and writes a SQLite file, that is the busy handler waiting for the write lock.
 */
function sleepingChild(words: string[]): boolean {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== process.pid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!words.every((word, i) => argv[argv.indexOf(words[0]!) + i] === word)) continue;
      if (SLEEPS.includes(readFileSync(`/proc/${entry}/syscall`, "utf8").split(" ")[0]!)) return true;
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return false;
}

describe("the command line under an operator's mistakes", { timeout: 60_000 }, () => {
  let cli: CliWorkspace;
  const PASSWORD = "a long passphrase of mine\n";
  beforeAll(async () => {
    cli = cliWorkspace();
    expect((await cli.run(["user", "add", "j.smith", "--name", "Jane Smith", "--partner", "01234"], { stdin: PASSWORD })).code).toBe(0);
  });
  afterAll(() => cli?.remove());

  it("a command group without its subcommand (famos user, famos) is a usage error, exit 2, with the help on standard error", async () => {
    for (const [i, args] of [[], ["user"], ["address"], ["rollout"], ["mail"]].entries()) {
      const result = i === 0 ? await cli.run(args) : await cli.inProcess(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain("Usage: famos");
      expect(result.stdout).toBe("");
    }
    const asked = await cli.inProcess(["user", "--help"]);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain("Usage: famos user");
  });

  it("a CSV or settings file that cannot be read says why in words: no such file, a directory", async () => {
    mkdirSync(join(cli.dir, "folder.csv"), { recursive: true });
    const missing = await cli.run(["user", "import", join(cli.dir, "nowhere.csv")]);
    expect(missing.stderr).toBe(`famos: cannot read ${join(cli.dir, "nowhere.csv")}: there is no such file (ENOENT)\n`);
    const folder = await cli.inProcess(["user", "import", join(cli.dir, "folder.csv")]);
    expect(folder.stderr).toBe(`famos: cannot read ${join(cli.dir, "folder.csv")}: it is a directory, not a file (EISDIR)\n`);
    const settings = await cli.inProcess(["--config", join(cli.dir, "folder.csv"), "user", "show", "j.smith"]);
    expect(settings.stderr).toContain(`cannot read the settings file "${join(cli.dir, "folder.csv")}": it is a directory, not a file (EISDIR)`);
    for (const result of [missing, folder, settings]) expect(result.code).toBe(1);
  });

  it("control characters in settings reach the terminal escaped: famos config's table, the settings refused at start", async () => {
    const label = await cli.inProcess(["config"], { env: { FAMOS_VERSION_LABEL: "FAMOS\u001b[2J 9.0" } });
    expect(label.stdout).toContain("FAMOS\\u001b[2J 9.0");
    const wrong = await cli.run(["user", "show", "j.smith"], { env: { FAMOS_OTP_TTL: "\u001b[2J15m" } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('(got "\\u001b[2J15m")');
    for (const result of [label, wrong]) expect(result.stdout + result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it("an unknown login ID gets the same one line from every command, a 10,000-character one cut short", async () => {
    const long = "a".repeat(10_000);
    const commands = (id: string) => [["user", "show", id], ["user", "unlock", id], ["user", "role", id, "admin"], ["user", "disable", id], ["user", "factors", id], ["user", "delete", id, "--erase"]];
    // The first as a real famos process (its exit code as the shell sees it); the other commands
    // through the same main() in this process (cli.inProcess), eleven process starts fewer.
    for (const [i, args] of commands(long).entries()) {
      const result = i === 0 ? await cli.run(args) : await cli.inProcess(args);
      expect(result.code, args.join(" ").slice(0, 40)).toBe(1);
      expect(result.stderr).toBe(`famos: no user has login ID "${"a".repeat(80)}…" (10000 characters)\n`);
    }
    for (const args of commands("nobody.here")) expect((await cli.inProcess(args)).stderr).toBe('famos: no user has login ID "nobody.here"\n');
  });

  it("control characters typed in a login ID, an option or a file name reach the terminal escaped, in every refusal", async () => {
    const typed = "j\u001b[2J\u001b[31mX\nfamos: done";
    const results = [
      await cli.run(["user", "show", typed]),
      await cli.inProcess(["user", "unlock", typed]),
      await cli.inProcess(["audit", "--since", typed]),
      await cli.inProcess(["user", "import", join(cli.dir, typed)]),
      await cli.run(["user", "add", "x", "--name", "X", "--partner", "1", "--role", typed]),
    ];
    for (const result of results) {
      expect(result.code, result.stderr).toBeGreaterThan(0);
      expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(result.stderr).toContain("j\\u001b[2J\\u001b[31mX\\u000afamos: done");
    }
  });

  it("a full name with a C1 control character (U+009B, the one-byte CSI) is refused, and one stored earlier is shown escaped", async () => {
    const refused = await cli.run(["user", "add", "c1.name", "--name", "Jane\u009b31m Smith", "--partner", "01234"], { stdin: PASSWORD });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("famos: the full name must be 1 to 200 printable characters\n");
    expect((await cli.inProcess(["user", "show", "c1.name"])).code).toBe(1);

    const db = new Database(join(cli.dir, "famos.db"));
    db.prepare("update users set full_name = ? where login_id = ?").run("Jane\u009b31m \u001b[8mSmith", "j.smith");
    db.close();
    const shown = await cli.inProcess(["user", "show", "j.smith"]);
    expect(shown.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(shown.stdout).toContain("Jane\\u009b31m \\u001b[8mSmith");
    // --json too: the same JSON, with DEL and C1 written as \u escapes (JSON.stringify leaves them raw).
    const json = await cli.inProcess(["user", "show", "j.smith", "--json"]);
    expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect((JSON.parse(json.stdout) as { name: string }).name).toBe("Jane\u009b31m \u001b[8mSmith");
    const db2 = new Database(join(cli.dir, "famos.db"));
    db2.prepare("update users set full_name = ? where login_id = ?").run("Jane Smith", "j.smith");
    db2.close();
  });

  it("names stored before the rule (C1, ESC) are listed escaped by rollout announce and import --sync --dry-run", async () => {
    const added = await cli.run(["user", "add", "listed.one", "--name", "Listed One", "--partner", "7788"], { stdin: PASSWORD });
    expect(added.code, added.stderr).toBe(0);
    const db = new Database(join(cli.dir, "famos.db"));
    db.prepare("update users set full_name = ? where login_id = ?").run("Listed\u009b2J \u001b[8mOne", "listed.one");
    db.close();
    const announce = await cli.inProcess(["rollout", "announce", "--partner", "7788", "--dry-run"]);
    const file = join(cli.dir, "other.csv");
    writeFileSync(file, `${HEADER}\nsomeone.else,Someone Else,7788,,,${bcryptHash("a long passphrase of mine")}\n`);
    const sync = await cli.inProcess(["user", "import", file, "--sync", "--dry-run"]);
    for (const result of [announce, sync]) {
      expect(result.stdout).toContain("Listed\\u009b2J \\u001b[8mOne");
      expect(result.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
  });

  it("user factors --remove for a user who has none says nothing was removed, and neither mails them that it was nor signs them out", async () => {
    const added = await cli.run(["user", "add", "no.factors", "--name", "No Factors", "--partner", "01234", "--email", "no.factors@dealer.example"], { stdin: PASSWORD });
    expect(added.code, added.stderr).toBe(0);
    // A ticket the one rule refuses (src/support/ticket.ts) is refused, not cut short or passed on to the audit trail.
    for (const ticket of ["INC\u009b2J", "T".repeat(65)]) {
      const refused = await cli.inProcess(["user", "factors", "no.factors", "--remove", "--ticket", ticket]);
      expect(refused.code, JSON.stringify(ticket)).toBe(1);
      expect(refused.stderr).toBe("famos: Enter the ticket reference of the request (1 to 64 characters).\n");
    }
    const audited = new Database(join(cli.dir, "famos.db"));
    const events = audited.prepare("select count(*) as n from audit where event = 'factors.removed' and subject = ?").get("no.factors") as { n: number };
    audited.close();
    expect(events.n).toBe(0);
    const removed = await cli.inProcess(["user", "factors", "no.factors", "--remove"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe("no.factors: The user had no passkeys, authenticator app or recovery codes; nothing was removed.\n");
    expect(removed.stderr).not.toContain("were removed");
    const db = new Database(join(cli.dir, "famos.db"));
    const mails = db.prepare("select count(*) as n from outbox where recipient = ?").get("no.factors@dealer.example") as { n: number };
    db.close();
    expect(mails.n).toBe(0);
  });

  it("a SQLite file another process holds past the busy timeout: a write says in one line the database is busy, exit 1, no stack, no log record; a read answers", async () => {
    const holder = new Database(join(cli.dir, "famos.db"));
    holder.exec("BEGIN EXCLUSIVE");
    try {
      // The write as a real process (its exit code); the read through main() here, meanwhile.
      const [unlock, show] = await Promise.all([cli.run(["user", "unlock", "j.smith"]), cli.inProcess(["user", "show", "j.smith"])]);
      for (const result of [unlock, show]) {
        expect(result.stderr).not.toMatch(/^\s+at /m);
        expect(result.stderr).not.toContain('{"level"');
        expect(result.stderr).not.toContain("lost the connection");
      }
      expect(unlock.code).toBe(1);
      expect(unlock.stderr).toMatch(/^famos: the database sqlite:\S+ is busy: another process kept it locked past the wait of 5 s \(database is locked\); .*run the command again in a moment\n$/);
      // A command that queued no mail has no outbox to read: \`user show\` answers from what it can read
      // (WAL lets readers past the holder) and says nothing about mail.
      expect(show.stdout).toContain("Jane Smith");
      expect(show.stderr).toBe("");
      expect(show.code).toBe(0);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    const audit = await cli.inProcess(["audit", "--event", "unlock"]);
    expect(audit.stdout).toBe("");
  });

  it("a SQLite file another process holds for a moment, within the busy timeout: a command that reads, then writes, waits its turn and succeeds", async () => {
    // `famos serve` writing a sign-in while the operator changes a role. SQLite does not wait for a
    // read transaction to become a write: the command failed at once, saying it had waited 5 s.
    const holder = new Database(join(cli.dir, "famos.db"));
    holder.exec("BEGIN IMMEDIATE");
    // Held from before the command opens the file until the command waits for it (SQLite's busy
    // handler sleeping, seen in /proc), then let go: well within its wait of 5 s.
    const running = cli.run(["user", "role", "j.smith", "support"]);
    const released = until("the command to wait for the write lock", () => sleepingChild(["user", "role"]), 20_000, 5).then(() => {
      holder.exec("COMMIT");
      holder.close();
    });
    const role = await running;
    await released;
    expect(role.stderr).toBe("");
    expect(role.code).toBe(0);
    expect(role.stdout).toBe("j.smith: role user → support.\n");
  });

  it("famos audit --user with an empty or blank login ID (a shell variable left unset) is refused, exit 1, not read as every user's trail", async () => {
    for (const typed of ["", "   "]) {
      const result = await cli.inProcess(["audit", "--user", typed]);
      expect(result.code, JSON.stringify(typed)).toBe(1);
      expect(result.stdout, JSON.stringify(typed)).toBe("");
      expect(result.stderr).toBe("famos: --user is empty: give a login ID, or leave --user out for every user's events\n");
    }
    const everyone = await cli.inProcess(["audit"]);
    expect(everyone.code).toBe(0);
    expect(everyone.stdout).toContain("user.created");
  });

  it("commander's suggestion for a mistyped option or command reads as words on one line, not a \\u000a escape", async () => {
    const option = await cli.inProcess(["rollout", "status", "--jsn"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toBe("error: unknown option '--jsn' (Did you mean --json?)\n");
    const command = await cli.inProcess(["user", "shwo", "j.smith"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("(Did you mean show?)");
    expect(command.stderr).not.toContain("\\u000a");
  });
  it("famos doctor --send-to with something that is not one email address is a usage error, exit 2, in one line, before any check runs or mail is sent", async () => {
    for (const typed of ["notanaddress", "a@b.example,c@d.example", ""]) {
      const result = await cli.inProcess(["doctor", "--send-to", typed]);
      expect(result.code, typed).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("--send-to");
      expect(result.stderr).toContain("give one email address, such as you@dealer.example");
    }
  });
});
