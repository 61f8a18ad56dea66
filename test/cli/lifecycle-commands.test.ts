import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";
import { useCliApp } from "./run-famos.ts";

/**
 * `famos user set-password | disable | enable | delete --erase` and `famos cleanup`. Real processes for
 * standard input and for exit codes as the shell sees them (set-password's 0, 1 and 2, disable's 0,
 * delete's usage error); the other runs through main() in this process (cli.inProcess), which answers
 * as a real process does (rollout-commands' first test compares the two).
 */
describe("lifecycle commands on the command line", { timeout: 120_000 }, () => {
  const f = useCliApp();

  it("set-password --temporary --generate prints the password once; it leads to Choose a new password", async () => {
    const user = await addUser(f.t.deps, { loginId: "cli.forgot", email: "forgot@dealer.example" });
    const live = new FormClient(f.t.app);
    await signInFully(live, f.t.smtp, user);
    const result = await f.cli.run(["user", "set-password", "cli.forgot", "--temporary", "--generate"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const password = /Temporary password for cli\.forgot: (\S+)/.exec(result.stdout)![1]!;
    expect(password).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(result.stdout).toContain("1 session ended; forgot@dealer.example is told");
    expect((await live.get("/profile")).statusCode).toBe(303);

    const client = new FormClient(f.t.app);
    const before = f.t.smtp.messages.length;
    expect((await submitPassword(client, "cli.forgot", password)).headers.location).toBe("/otp");
    await client.get("/otp");
    const confirmed = await client.post("/otp", { code: await nextCode(f.t.smtp, "forgot@dealer.example", before) });
    expect(confirmed.headers.location).toBe("/choose-password");
  });

  it("set-password reads the password from standard input, refuses a weak one, and requires --temporary", async () => {
    await addUser(f.t.deps, { loginId: "cli.stdin" });
    const weak = await f.cli.run(["user", "set-password", "cli.stdin", "--temporary"], { stdin: "password\n" });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain("at least 12 characters");
    expect((await f.cli.run(["user", "set-password", "cli.stdin"], { stdin: "a fine temporary one\n" })).code).toBe(2);
    const fine = await f.cli.run(["user", "set-password", "cli.stdin", "--temporary"], { stdin: "a fine temporary one\n" });
    expect(fine.code).toBe(0);
    expect(fine.stdout).not.toContain("a fine temporary one");
    expect((await submitPassword(new FormClient(f.t.app), "cli.stdin", "a fine temporary one")).headers.location).toBe("/otp");
  });

  it("set-password refuses a password that is not UTF-8 with exit 1, and changes nothing", async () => {
    const user = await addUser(f.t.deps, { loginId: "cli.latin" });
    const result = await f.cli.run(["user", "set-password", "cli.latin", "--temporary"], { stdin: Buffer.from("une clé très temporaire\n", "latin1") });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe("famos: the password on standard input is not UTF-8 text; give it as UTF-8\n");
    expect(await findUserByLogin(f.t.deps.db, "cli.latin")).toMatchObject({ password_hash: user.password_hash, password_temporary_until: null });
    expect((await queryAudit(f.t.deps.db, { subject: "cli.latin" })).map((e) => e.event)).not.toContain("password.temporary-set");
  });

  it("set-password refuses a disabled account with exit 1 and the reason (no password lets it sign in), and changes nothing", async () => {
    const user = await addUser(f.t.deps, { loginId: "cli.offsite", email: "offsite@dealer.example" });
    // Disabled through main() in this process (cli.inProcess); the next test runs disable as a real process.
    expect((await f.cli.inProcess(["user", "disable", "cli.offsite"])).code).toBe(0);
    const disabledRow = (await findUserByLogin(f.t.deps.db, "cli.offsite"))!;
    // --generate reads nothing: through main() here; the typed one below reads standard input, as a real process.
    const generated = await f.cli.inProcess(["user", "set-password", "cli.offsite", "--temporary", "--generate"]);
    expect(generated.code, generated.stdout).toBe(1);
    expect(generated.stdout).toBe("");
    expect(generated.stderr).toBe("famos: This account is disabled, so no password lets it sign in: enable it first, then set a temporary password.\n");
    const typed = await f.cli.run(["user", "set-password", "cli.offsite", "--temporary"], { stdin: "a fine temporary one\n" });
    expect(typed.code).toBe(1);
    expect(await findUserByLogin(f.t.deps.db, "cli.offsite")).toMatchObject({ password_hash: disabledRow.password_hash, password_temporary_until: null });
    expect((await queryAudit(f.t.deps.db, { subject: "cli.offsite" })).map((e) => e.event)).not.toContain("password.temporary-set");
    expect(user.id).toBe(disabledRow.id);
  });

  it("disable ends the sessions at once; enable lets the user in again", async () => {
    const user = await addUser(f.t.deps, { loginId: "cli.leaver" });
    const live = new FormClient(f.t.app);
    await signInFully(live, f.t.smtp, user);
    const disabled = await f.cli.run(["user", "disable", "cli.leaver"]);
    expect(disabled.code).toBe(0);
    // Signed in fully, the user has no pending code: the line does not say any was voided.
    expect(disabled.stdout).toBe("Disabled cli.leaver: 1 session ended.\n");
    expect((await live.get("/")).body).toContain("Log in");
    expect((await submitPassword(new FormClient(f.t.app), user.login_id, user.password)).statusCode).toBe(401);
    // The disable above as a real famos process; the repeats, the enable and the unknown login ID
    // through the same main() in this process (cli.inProcess), three process starts fewer.
    expect((await f.cli.inProcess(["user", "disable", "cli.leaver"])).stdout).toContain("already disabled");
    expect((await f.cli.inProcess(["user", "enable", "cli.leaver"])).stdout).toContain("Enabled cli.leaver");
    expect((await submitPassword(new FormClient(f.t.app), user.login_id, user.password)).headers.location).toBe("/otp");
    expect((await f.cli.inProcess(["user", "disable", "nobody"])).code).toBe(1);
  });

  it("enable says when the account's OTP email is now another enabled login ID's too (a successor took the leaver's address)", async () => {
    await addUser(f.t.deps, { loginId: "cli.returner", email: "desk.cli@dealer.example" });
    expect((await f.cli.inProcess(["user", "disable", "cli.returner"])).code).toBe(0);
    await addUser(f.t.deps, { loginId: "cli.successor", email: "desk.cli@dealer.example" });
    const enabled = await f.cli.inProcess(["user", "enable", "cli.returner"]);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(enabled.stdout).toMatch(/^Enabled cli\.returner: they can sign in again\.\nIts OTP email is also the OTP email of another enabled login ID/);
  });

  it("disable says how many pending codes it voided, and only when it voided some", async () => {
    const user = await addUser(f.t.deps, { loginId: "cli.midway", email: "midway@dealer.example" });
    expect((await submitPassword(new FormClient(f.t.app), user.login_id, user.password)).headers.location).toBe("/otp");
    const disabled = await f.cli.inProcess(["user", "disable", "cli.midway"]);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toMatch(/^Disabled cli\.midway: \d+ sessions? ended, 1 pending code voided\.\n$/);
    await addUser(f.t.deps, { loginId: "cli.quiet" });
    expect((await f.cli.inProcess(["user", "disable", "cli.quiet"])).stdout).toBe("Disabled cli.quiet: no session was open.\n");
  });

  it("delete --erase removes the user and keeps their events under a pseudonym; without --erase it is a usage error", async () => {
    const user = await addUser(f.t.deps, { loginId: "cli.gone" });
    await signInFully(new FormClient(f.t.app), f.t.smtp, user);
    expect((await f.cli.run(["user", "delete", "cli.gone"])).code).toBe(2);
    // The usage error above as a real process (exit 2 as the shell sees it); the erase through main() here.
    const result = await f.cli.inProcess(["user", "delete", "cli.gone", "--erase"]);
    expect(result.code).toBe(0);
    const pseudonym = /pseudonym (erased-\S+)\./.exec(result.stdout)![1]!;
    expect(await findUserByLogin(f.t.deps.db, "cli.gone")).toBeUndefined();
    expect(await queryAudit(f.t.deps.db, { subject: "cli.gone" })).toEqual([]);
    const kept = (await queryAudit(f.t.deps.db, { subject: pseudonym })).map((e) => e.event);
    expect(kept).toEqual(expect.arrayContaining(["user.erased", "code.confirmed", "password.ok", "code.sent"]));
  });

  it("cleanup reports its counts", async () => {
    const result = await f.cli.inProcess(["cleanup"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sessions removed: \d+\nflows removed: \d+\ncodes removed: \d+\nmail removed: \d+\nfailure counts removed: \d+\ndevices removed: \d+\nbounce records removed: \d+\naudit events removed: 0\naudit events pseudonymised: 0\nlongest statement: /);
  });
});
