import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { findUserById, findUserByLogin } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

const LAST_ADMIN = "famos: This is the last administrator: make another account an administrator first.\n";

/**
 * An enabled administrator always stays, whatever takes the last one's access away: the operator's
 * `famos user disable` and `famos user delete --erase` are refused the last enabled administrator as
 * `famos user role` is (exit 1, nothing changed, no event); with none, nobody could manage roles from
 * the console. One of two may go. Through main() in this process, on a database of each dialect.
 */
describe.each(DIALECTS)("the operator disabling or erasing the last administrator on %s", { timeout: 60_000 }, (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let cli: CliWorkspace;
  let deps: Deps;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, `last_admin_cli_${dialect}`);
    deps = t.deps[0]!;
    cli = cliWorkspace();
  });
  afterAll(async () => {
    cli?.remove();
    await t?.close();
  });

  const famos = (...args: string[]) => cli.inProcess(args, { env: { FAMOS_DATABASE_URL: t.database.url } });
  const events = async (event: string) => (await deps.db.selectFrom("audit").select("subject").where("event", "=", event).execute()).map((e) => e.subject);
  const enabledAdmins = async () => (await deps.db.selectFrom("users").select("login_id").where("role", "=", "admin").where("disabled_at", "is", null).orderBy("login_id").execute()).map((u) => u.login_id);

  // The three run in order on the one database: the count is the whole database's.
  it("famos user disable refuses the last enabled administrator (a disabled one does not count): exit 1, nothing changed, no event", async () => {
    const last = await addUser(deps, { loginId: "last.admin", role: "admin" });
    const disabled = await addUser(deps, { loginId: "disabled.admin", role: "admin" });
    await deps.db.updateTable("users").set({ disabled_at: t.clock.now() }).where("id", "=", disabled.id).execute();
    expect(await famos("user", "disable", "last.admin")).toEqual({ code: 1, stdout: "", stderr: LAST_ADMIN });
    expect((await findUserById(deps.db, last.id))!.disabled_at).toBeNull();
    expect(await events("user.disabled")).toEqual([]);
  });

  it("famos user delete --erase refuses the last enabled administrator: exit 1, the account and its events stay", async () => {
    expect(await famos("user", "delete", "last.admin", "--erase")).toEqual({ code: 1, stdout: "", stderr: LAST_ADMIN });
    expect(await findUserByLogin(deps.db, "last.admin")).toMatchObject({ role: "admin", disabled_at: null });
    expect(await events("user.erased")).toEqual([]);
    expect(await enabledAdmins()).toEqual(["last.admin"]);
  });

  it("one of two enabled administrators may be disabled or erased, and then the other is the last", async () => {
    // Enabling an administrator again is never refused; then there are two.
    expect((await famos("user", "enable", "disabled.admin")).code).toBe(0);
    const disabledOne = await famos("user", "disable", "last.admin");
    expect(disabledOne.code, disabledOne.stderr).toBe(0);
    expect(await famos("user", "disable", "disabled.admin")).toEqual({ code: 1, stdout: "", stderr: LAST_ADMIN });
    expect(await enabledAdmins()).toEqual(["disabled.admin"]);
    // A disabled administrator may be erased; of two enabled ones, one.
    const erasedDisabled = await famos("user", "delete", "last.admin", "--erase");
    expect(erasedDisabled.code, erasedDisabled.stderr).toBe(0);
    await addUser(deps, { loginId: "second.admin", role: "admin" });
    const erasedOne = await famos("user", "delete", "disabled.admin", "--erase");
    expect(erasedOne.code, erasedOne.stderr).toBe(0);
    expect(await famos("user", "delete", "second.admin", "--erase")).toEqual({ code: 1, stdout: "", stderr: LAST_ADMIN });
    expect(await enabledAdmins()).toEqual(["second.admin"]);
    expect(await events("user.disabled")).toHaveLength(1);
    expect(await events("user.erased")).toHaveLength(2);
  });

  it("famos user import --update refuses the row that would demote the last enabled administrator, and takes the others", async () => {
    await addUser(deps, { loginId: "staff.one", partnerNumber: "01234" });
    const hash = bcryptHash("correct horse battery staple");
    const path = join(cli.dir, "demote.csv");
    writeFileSync(path, [HEADER, `second.admin,Name,01234,user,,${hash}`, `staff.one,Name,01234,support,,${hash}`].join("\n"));
    const result = await famos("user", "import", path, "--update");
    expect(result.code).toBe(1);
    // The words of every other last-administrator refusal (LAST_ADMIN), after the row's line and login ID.
    expect(result.stderr).toContain('line 2: "second.admin": This is the last administrator: make another account an administrator first.\n');
    expect(await findUserByLogin(deps.db, "second.admin")).toMatchObject({ role: "admin", full_name: "Jane Smith" });
    expect((await findUserByLogin(deps.db, "staff.one"))!.role).toBe("support");
    expect(await events("role.changed")).toEqual(["staff.one"]);
  });
});

