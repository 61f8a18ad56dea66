import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
  const SAID = "1 file password hash recorded, not applied (an account from before this version whose password was changed or upgraded since; set a temporary one with famos user set-password <login-id> --temporary if IT meant a new password).\n";

  it("an account from before the record with its own argon2id password: the summary, then the line; the next run only the summary", async () => {
    const user = await addUser(f.t.deps, { loginId: "pre.added", email: "pre.added@dealer.example" });
    await f.t.deps.db.updateTable("users").set({ imported_hash_digest: "unrecorded" }).where("id", "=", user.id).execute();
    const file = join(f.cli.dir, "dealer.csv");
    writeFileSync(file, `${HEADER}\npre.added,Jane Smith,01234,,pre.added@dealer.example,${bcryptHash("what IT typed in")}\n`);

    const first = await f.cli.inProcess(["user", "import", file, "--update"]);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe(`1 row taken (0 added, 0 updated, 1 unchanged).\n${SAID}`);
    expect((await findUserByLogin(f.t.deps.db, "pre.added"))!.password_hash).toBe(user.password_hash);

    const again = await f.cli.inProcess(["user", "import", file, "--update"]);
    expect(again.stdout).toBe("1 row taken (0 added, 0 updated, 1 unchanged).\n");
  });
});
