import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";
import { bcryptHash, csvField, HEADER } from "./import-fixtures.ts";
import { useCliApp } from "./run-famos.ts";

/**
 * `famos user import --update` with a new hash for a user whose temporary password (support's, `famos
 * user set-password --temporary`) is pending, used (0) or spent before the wave (minus its end): the
 * imported hash is an ordinary password, so its sign-in goes through the code to the portal, not to
 * "Choose a new password" nor refused as a spent temporary one. Before, the import kept the temporary
 * state, and the imported password was one-use (pending) or never let in (used, spent).
 */
describe("an imported hash replaces a temporary password (import --update, sign-in over HTTP)", { timeout: 60_000 }, () => {
  const f = useCliApp();
  const IMPORTED = "the imported password";

  /** `famos user import <file> --update` (or without it) with one row for `loginId`, through main(). */
  async function importRow(loginId: string, email: string, update: boolean): Promise<void> {
    const file = join(f.cli.dir, `${loginId}.csv`);
    writeFileSync(file, `${HEADER}\n${loginId},Jane Smith,01234,,${email},${bcryptHash(IMPORTED)}\n`);
    const result = await f.cli.inProcess(["user", "import", file, ...(update ? ["--update"] : [])]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(update ? /^1 row taken \(0 added, 1 updated, 0 unchanged\)\.\n$/ : /^1 row taken \(1 added\)\.\n$/);
  }

  /** Where a sign-in with `password` ends: the password step's answer, or past the code, the page it leads to. */
  async function signInEnds(loginId: string, email: string, password: string): Promise<string | number> {
    const client = new FormClient(f.t.app);
    const before = f.t.smtp.messages.length;
    const step = await submitPassword(client, loginId, password);
    if (step.headers.location !== "/otp") return step.statusCode;
    await client.get("/otp");
    return String((await client.post("/otp", { code: await nextCode(f.t.smtp, email, before) })).headers.location);
  }

  async function setTemporary(loginId: string): Promise<string> {
    const result = await f.cli.inProcess(["user", "set-password", loginId, "--temporary", "--generate"]);
    expect(result.code, result.stderr).toBe(0);
    return /Temporary password for \S+: (\S+)/.exec(result.stdout)![1]!;
  }

  it("a pending temporary password: the imported one is ordinary, not one-use", async () => {
    const user = await addUser(f.t.deps, { loginId: "imp.pending", email: "pending@dealer.example" });
    await setTemporary(user.login_id);
    expect((await findUserByLogin(f.t.deps.db, user.login_id))!.password_temporary_until).toBeGreaterThan(0);
    await importRow(user.login_id, user.otp_email!, true);
    expect((await findUserByLogin(f.t.deps.db, user.login_id))!.password_temporary_until).toBeNull();
    expect(await signInEnds(user.login_id, user.otp_email!, IMPORTED)).toBe("/");
    // Ordinary, so a second sign-in works as the first.
    expect(await signInEnds(user.login_id, user.otp_email!, IMPORTED)).toBe("/");
  });

  it("a used temporary password (0): the imported one lets in", async () => {
    const user = await addUser(f.t.deps, { loginId: "imp.used", email: "used@dealer.example" });
    const temporary = await setTemporary(user.login_id);
    expect(await signInEnds(user.login_id, user.otp_email!, temporary)).toBe("/choose-password");
    expect((await findUserByLogin(f.t.deps.db, user.login_id))!.password_temporary_until).toBe(0);
    await importRow(user.login_id, user.otp_email!, true);
    expect((await findUserByLogin(f.t.deps.db, user.login_id))!.password_temporary_until).toBeNull();
    expect(await signInEnds(user.login_id, user.otp_email!, IMPORTED)).toBe("/");
  });

  it("a temporary password spent before the wave (minus its end): the imported one lets in", async () => {
    const user = await addUser(f.t.deps, { loginId: "imp.spent", email: "spent@dealer.example" });
    await setTemporary(user.login_id);
    // The state a sign-in before the user's wave leaves (stageAfterSignIn, beforeWave): its end, negated.
    const until = (await findUserByLogin(f.t.deps.db, user.login_id))!.password_temporary_until!;
    await f.t.deps.db.updateTable("users").set({ password_temporary_until: -until }).where("id", "=", user.id).execute();
    await importRow(user.login_id, user.otp_email!, true);
    expect((await findUserByLogin(f.t.deps.db, user.login_id))!.password_temporary_until).toBeNull();
    expect(await signInEnds(user.login_id, user.otp_email!, IMPORTED)).toBe("/");
  });

  it("a new user's imported hash has no temporary state", async () => {
    await importRow("imp.new", "new@dealer.example", false);
    expect((await findUserByLogin(f.t.deps.db, "imp.new"))!.password_temporary_until).toBeNull();
    expect(await signInEnds("imp.new", "new@dealer.example", IMPORTED)).toBe("/");
    // The update after it with the same hash changes nothing.
    const file = join(f.cli.dir, "same.csv");
    const hash = (await findUserByLogin(f.t.deps.db, "imp.new"))!.password_hash;
    writeFileSync(file, `${HEADER}\nimp.new,Jane Smith,01234,,new@dealer.example,${csvField(hash)}\n`);
    const same = await f.cli.inProcess(["user", "import", file, "--update"]);
    expect(same.stdout + same.stderr).toBe("1 row taken (0 added, 0 updated, 1 unchanged).\n");
    await signInFully(new FormClient(f.t.app), f.t.smtp, { login_id: "imp.new", password: IMPORTED, otp_email: "new@dealer.example" });
  });
});
