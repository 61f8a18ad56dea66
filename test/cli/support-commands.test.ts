import { testLoginDigest } from "../support/login-counter.ts";
import { userInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { recordFailure } from "../../src/regulation/throttle.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { useCliApp } from "./run-famos.ts";

const OPERATOR = `operator:${userInfo().username}`;

/** `famos user reset-email | unlock | role` and `famos audit`, run against the app's database. */
// A real process (about a second each, more on a busy machine: a generous timeout) for each exit code
// as the shell sees it: reset-email's refusal (1) and usage error (2), role's change (0) and usage
// error (2); what a command does (reset-email's, unlock's, audit's output and effects) and the repeats,
// refusals and other listings are the same commands through main() in this process (cli.inProcess).
describe("support commands on the command line", { timeout: 120_000 }, () => {
  const f = useCliApp();

  it("reset-email refuses when the name, login ID or partner number does not match, or the ticket has a control character (C1 included) or a bidirectional control, and changes nothing", async () => {
    await addUser(f.t.deps, { loginId: "cli.keep", fullName: "Keep Me", partnerNumber: "00099", email: "keep@dealer.example" });
    const wrong = await f.cli.run(["user", "reset-email", "cli.keep", "--name", "Keep Me", "--partner", "99", "--ticket", "INC1"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the partner number does not match the account");
    // The refusal and the usage error as real processes (exit codes as the shell sees them); the other
    // refusals through the same main() in this process (cli.inProcess), five process starts fewer.
    /** `famos user reset-email …` refused through main() in this process: exit 1, and what it says. */
    const refused = async (...args: string[]) => {
      const result = await f.cli.inProcess(["user", "reset-email", ...args]);
      expect(result.code, args.join(" ")).toBe(1);
      return result.stderr;
    };
    expect(await refused("nobody", "--name", "Keep Me", "--partner", "00099", "--ticket", "INC1")).toContain('no user has login ID "nobody"');
    expect(await refused("cli.keep", "--name", "Keep Me", "--partner", "00099", "--ticket", "INC\u009b2J")).toContain("Enter the ticket reference of the request (1 to 64 characters).");
    expect(await refused("cli.keep", "--name", "Keep Me", "--partner", "00099", "--ticket", "INC-77\u202e")).toBe(
      "famos: the ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors).\n",
    );
    // Every problem at once, as the console's form says them: a wrong partner number and a bad ticket
    // are both told, so the operator does not fix one, run it again, and only then hear of the other.
    expect(await refused("cli.keep", "--name", "Keep Me", "--partner", "99", "--ticket", "INC-77\u202e")).toBe(
      "famos: the partner number does not match the account. The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors). Check the request with the user; nothing was changed.\n",
    );
    expect(await refused("cli.keep", "--name", "Someone Else", "--partner", "00099", "--ticket", " ")).toBe(
      "famos: the name does not match the account. Enter the ticket reference of the request (1 to 64 characters). Check the request with the user; nothing was changed.\n",
    );
    const usage = await f.cli.run(["user", "reset-email", "cli.keep", "--name", "Keep Me", "--partner", "00099"]);
    expect(usage.code).toBe(2);
    expect((await findUserByLogin(f.t.deps.db, "cli.keep"))!.otp_email).toBe("keep@dealer.example");
    expect(await queryAudit(f.t.deps.db, { subject: "cli.keep", event: "email.reset" })).toHaveLength(0);
  });

  it("reset-email ends the user's sessions, tells the old address and audits the operator; the next sign-in enrols", async () => {
    const user = await addUser(f.t.deps, { loginId: "Cli.Reset", fullName: "Ray  Set", partnerNumber: "0042", email: "ray@dealer.example" });
    const live = new FormClient(f.t.app);
    await signInFully(live, f.t.smtp, user);
    const result = await f.cli.inProcess(["user", "reset-email", "cli.reset", "--name", "ray set", "--partner", "0042", "--ticket", "INC-77"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Reset the OTP email of Cli.Reset (ticket INC-77): 1 session ended");
    expect((await live.get("/profile")).statusCode).toBe(303);
    const mail = await f.t.smtp.waitForMessage((m) => m.envelopeTo.includes("ray@dealer.example") && m.subject === "Your FAMOS one time passcode email was reset");
    expect(mail.text).toContain("INC-77");
    expect((await submitPassword(new FormClient(f.t.app), "cli.reset", user.password)).headers.location).toBe("/enrol");
    const [event] = await queryAudit(f.t.deps.db, { subject: "Cli.Reset", event: "email.reset" });
    expect(event).toMatchObject({ actor: OPERATOR, ip: "cli", userAgent: "famos-cli" });
    expect(event!.detail).toMatchObject({ ticket: "INC-77", previousEmail: "ray@dealer.example", sessionsEnded: 1 });
  });

  it("unlock clears a lock, the permanent one included, and is audited", async () => {
    await addUser(f.t.deps, { loginId: "cli.locked" });
    // The permanent lock (the command runs on the real clock, so a timed lock of the test clock may be over).
    const lock = { ...f.t.config.lock, codeHardLock: 3 };
    for (let i = 0; i < 3; i += 1) await recordFailure(f.t.deps.db, "code", { loginKey: testLoginDigest("cli.locked"), ip: "10.0.0.5" }, f.t.clock.now(), { ...f.t.config, lock });
    const result = await f.cli.inProcess(["user", "unlock", "CLI.LOCKED"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Unlocked cli.locked.\n");
    const again = await f.cli.inProcess(["user", "unlock", "cli.locked"]);
    expect(again.stdout).toContain("was not locked");
    expect((await f.cli.inProcess(["user", "unlock", "nobody"])).code).toBe(1);
    const events = await queryAudit(f.t.deps.db, { subject: "cli.locked", event: "unlock" });
    expect(events.map((e) => e.detail.wasLocked)).toEqual([false, true]);
    expect(events[1]!.actor).toBe(OPERATOR);
  });

  it("role changes a role, refuses an unknown one as a usage error, and is audited", async () => {
    await addUser(f.t.deps, { loginId: "cli.role" });
    const result = await f.cli.run(["user", "role", "cli.role", "support"]);
    // What the command said, should it fail: CI saw it exit 1 once (2026-12-04), not reproduced since.
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("cli.role: role user → support.\n");
    expect((await f.cli.inProcess(["user", "role", "cli.role", "support"])).stdout).toContain("already has the role support");
    const bad = await f.cli.run(["user", "role", "cli.role", "superuser"]);
    expect(bad.code).toBe(2);
    expect((await findUserByLogin(f.t.deps.db, "cli.role"))!.role).toBe("support");
    const [event] = await queryAudit(f.t.deps.db, { subject: "cli.role", event: "role.changed" });
    expect(event).toMatchObject({ actor: OPERATOR, detail: { from: "user", to: "support" } });
  });

  it("role refuses to demote the last enabled administrator (exit 1, nothing changed), and demotes one of two", async () => {
    expect(await f.t.deps.db.selectFrom("users").select("id").where("role", "=", "admin").execute()).toEqual([]);
    await addUser(f.t.deps, { loginId: "cli.admin", role: "admin" });
    const refused = await f.cli.inProcess(["user", "role", "cli.admin", "support"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("famos: This is the last administrator: make another account an administrator first.\n");
    expect((await findUserByLogin(f.t.deps.db, "cli.admin"))!.role).toBe("admin");
    await addUser(f.t.deps, { loginId: "cli.admin.two", role: "admin" });
    expect((await f.cli.inProcess(["user", "role", "cli.admin", "user"])).stdout).toBe("cli.admin: role admin → user.\n");
  });

  it("audit prints JSON lines with the contract's fields, filtered by user and time", async () => {
    const json = await f.cli.inProcess(["audit", "--user", "CLI.ROLE", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(["time", "event", "actor", "subject", "ip", "userAgent", "detail"]);
      expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect(lines.map((l) => l.event)).toContain("role.changed");

    // Two events at known times, around a --since bound.
    const base = Date.UTC(2030, 0, 1, 12, 0);
    for (const [offset, event] of [[0, "signout"], [60_000, "unlock"]] as const) {
      await f.t.deps.db.insertInto("audit").values({ time: base + offset, event, actor: "timed", subject: "timed", ip: "1.2.3.4", user_agent: "\u001b[31mred", detail: "{}" }).execute();
    }
    const since = await f.cli.inProcess(["audit", "--user", "timed", "--since", "2030-01-01T12:00:30Z", "--json"]);
    expect(since.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(["unlock"]);
    // Without an offset the time is FAMOS_TIMEZONE's (London is on UTC in January).
    const local = await f.cli.inProcess(["audit", "--user", "timed", "--since", "2030-01-01T12:00"]);
    expect(local.stdout.trim().split("\n")).toHaveLength(2);
    expect(local.stdout).toContain("01/01/2030 12:00  signout");
    expect(local.stdout).not.toContain("\u001b");
    const bad = await f.cli.inProcess(["audit", "--since", "last tuesday"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--since");
    expect((await f.cli.inProcess(["audit", "--event", "made.up"])).code).toBe(1);
  });
});
