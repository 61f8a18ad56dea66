import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { useCliApp } from "./run-famos.ts";

/**
 * The first `--update` after migration 029: an account from before it ("unrecorded") whose stored hash is
 * argon2 (sign-in's upgrade, Profile, support, or `user add`) keeps it, and the file's hash, maybe a new
 * password IT meant, is only recorded (support/imported-password.ts). The row counts "unchanged"; the
 * import says so in a line of its own after the summary, once, so IT can set the password if it meant one.
 */
describe("famos user import --update: file hashes recorded, not applied, are told", { timeout: 60_000 }, () => {
  const f = useCliApp();
  const SAID = "1 file password hash recorded, not applied (an account from before this version whose password was changed or upgraded since; set a temporary one with famos user set-password <login-id> --temporary if IT meant a new password):\n";
  const notAppliedEvents = async () =>
    (await queryAudit(f.t.deps.db, { event: "password.import-not-applied", limit: 1000 })).map((e) => ({ subject: e.subject, actor: e.actor, detail: e.detail })).reverse();
  /** Accounts from before migration 029 ("unrecorded") with their own argon2id password, and a file giving each another hash. */
  async function unrecorded(logins: string[], partner: string): Promise<string> {
    for (const loginId of logins) {
      const user = await addUser(f.t.deps, { loginId, partnerNumber: partner, email: `${loginId}@dealer.example` });
      await f.t.deps.db.updateTable("users").set({ imported_hash_digest: "unrecorded" }).where("id", "=", user.id).execute();
    }
    const file = join(f.cli.dir, `${partner}.csv`);
    const fileHash = bcryptHash("what IT typed in");
    writeFileSync(file, [HEADER, ...logins.map((login) => `${login},Jane Smith,${partner},,${login}@dealer.example,${fileHash}`)].join("\n"));
    return file;
  }

  /** One such account, and a one-row file for it with `name` and `partner` (its own, unless a row moves or renames it). */
  async function oneUnrecorded(loginId: string, account: { fullName?: string; partnerNumber?: string }, name: string, partner: string) {
    const user = await addUser(f.t.deps, { loginId, email: `${loginId}@dealer.example`, ...account });
    await f.t.deps.db.updateTable("users").set({ imported_hash_digest: "unrecorded" }).where("id", "=", user.id).execute();
    const file = join(f.cli.dir, `${loginId}.csv`);
    writeFileSync(file, `${HEADER}\n${loginId},${name},${partner},,${loginId}@dealer.example,${bcryptHash("what IT typed in")}\n`);
    return { user, file };
  }

  it("an account from before the record with its own argon2id password: the summary, then the line; the next run only the summary", async () => {
    const { user, file } = await oneUnrecorded("pre.added", {}, "Jane Smith", "01234");

    const first = await f.cli.inProcess(["user", "import", file, "--update"]);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe(`1 row taken (0 added, 0 updated, 1 unchanged).\n${SAID}  pre.added (Jane Smith, partner 01234)\n`);
    expect((await findUserByLogin(f.t.deps.db, "pre.added"))!.password_hash).toBe(user.password_hash);
    // One event per account, about it (its subject, as every import event of an account), with its line.
    expect(await notAppliedEvents()).toEqual([{ subject: "pre.added", actor: expect.stringMatching(/^operator:/), detail: { source: "import", line: 2 } }]);

    const again = await f.cli.inProcess(["user", "import", file, "--update"]);
    expect(again.stdout).toBe("1 row taken (0 added, 0 updated, 1 unchanged).\n");
    expect(await notAppliedEvents()).toHaveLength(1);
  });

  it("many such accounts: the first 50 named in file order, then how many more and where all are named; one event each", async () => {
    const logins = Array.from({ length: 52 }, (_, i) => `many.${String(i).padStart(2, "0")}`);
    const file = await unrecorded(logins, "05555");
    const before = (await notAppliedEvents()).length;
    const run = await f.cli.inProcess(["user", "import", file, "--update"]);
    expect(run.stderr).toBe("");
    const named = logins.slice(0, 50).map((login) => `  ${login} (Jane Smith, partner 05555)\n`).join("");
    expect(run.stdout).toBe(
      "52 rows taken (0 added, 0 updated, 52 unchanged).\n" +
        "52 file password hashes recorded, not applied (accounts from before this version whose password was changed or upgraded since; set a temporary one with famos user set-password <login-id> --temporary if IT meant a new password):\n" +
        `${named}  … and 2 more: famos audit --event password.import-not-applied names them all\n`,
    );
    const events = (await notAppliedEvents()).slice(before);
    expect(events.map((e) => e.subject)).toEqual(logins);
    expect(events.at(-1)!.detail).toEqual({ source: "import", line: 53 });
  });

  it("a row that also moves the account to another partner and renames it: named as the row left it", async () => {
    const { user, file } = await oneUnrecorded("pre.moved", { partnerNumber: "06111", fullName: "Old Name" }, "New Name", "06222");
    const run = await f.cli.inProcess(["user", "import", file, "--update"]);
    expect(run.stderr).toBe("");
    // Counted "updated" (the move and the name applied); the hash only recorded, and the account named as it now is.
    expect(run.stdout).toBe(`1 row taken (0 added, 1 updated, 0 unchanged).\n${SAID}  pre.moved (New Name, partner 06222)\n`);
    const after = (await findUserByLogin(f.t.deps.db, "pre.moved"))!;
    expect([after.full_name, after.partner_number, after.password_hash]).toEqual(["New Name", "06222", user.password_hash]);
  });
});
