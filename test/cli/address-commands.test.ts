import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { useCliApp } from "./run-famos.ts";

/**
 * `famos address show|unlock` and `famos user unlock` lifting device locks. A real process for the
 * exit codes as the shell sees them (0: address show, 1: an address that is none); the other runs are
 * the same commands through main() in this process (cli.inProcess), checked as before.
 */
describe("lock commands on the command line", { timeout: 120_000 }, () => {
  const f = useCliApp();

  it("address show and unlock: what is counted, what was lifted, audited; bad input is refused with exit 1", async () => {
    const ip = "203.0.113.60";
    for (let i = 0; i < 50; i += 1) await submitPassword(new FormClient(f.t.app, ip), `sprayed.${i}`, "Spring2026!");
    const newcomer = await addUser(f.t.deps);
    expect((await submitPassword(new FormClient(f.t.app, ip), newcomer.login_id, newcomer.password)).statusCode).toBe(401);

    const shown = await f.cli.run(["address", "show", ip]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^${ip.replaceAll(".", "\\.")}: 50 failed sign-ins since `));

    const unlocked = await f.cli.inProcess(["address", "unlock", ip]);
    expect(unlocked.code).toBe(0);
    expect(unlocked.stdout).toMatch(new RegExp(`^${ip.replaceAll(".", "\\.")}: lifted 50 failed sign-ins since `));
    expect((await submitPassword(new FormClient(f.t.app, ip), newcomer.login_id, newcomer.password)).headers.location).toBe("/otp");
    const [event] = await queryAudit(f.t.deps.db, { event: "address.unlocked" });
    expect(event!.actor).toMatch(/^operator:/);
    expect(event!.detail).toMatchObject({ address: ip, failures: 50 });

    expect((await f.cli.inProcess(["address", "show", ip])).stdout).toBe(`${ip}: no failed sign-ins counted\n`);
    // Unlocked again, there is nothing to lift, and it says so in plain words.
    expect((await f.cli.inProcess(["address", "unlock", ip])).stdout).toBe(`${ip}: nothing to lift (no failed sign-ins counted)\n`);
    const bad = await f.cli.run(["address", "unlock", "10.0.0.999"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("is not an IP address");
    // An IPv6 address is counted, shown and lifted by its /64.
    expect((await f.cli.inProcess(["address", "show", "2001:db8:1:2::99"])).stdout).toBe("2001:db8:1:2::/64: no failed sign-ins counted\n");
    // Shown in RFC 5952's form (QA: ::1 was shown as 0:0:0:0::/64); the key it is counted under is unchanged.
    expect((await f.cli.inProcess(["address", "show", "::1"])).stdout).toBe("::/64: no failed sign-ins counted\n");
    expect((await f.cli.inProcess(["address", "unlock", "2001:db8::7"])).stdout).toBe("2001:db8::/64: nothing to lift (no failed sign-ins counted)\n");
  });

  it("user unlock lifts the locks of the login ID's browsers too", async () => {
    const user = await addUser(f.t.deps, { loginId: "cli.device" });
    const home = new FormClient(f.t.app, "198.51.100.61");
    await signInFully(home, f.t.smtp, user);
    for (let i = 0; i < 10; i += 1) await submitPassword(home, user.login_id, `typo ${i}`);
    expect((await accountLockInfo(f.t.deps, user.login_key, f.t.clock.now())).devices).toHaveLength(1);
    const result = await f.cli.inProcess(["user", "unlock", user.login_id]);
    expect(result.code).toBe(0);
    expect((await accountLockInfo(f.t.deps, user.login_key, f.t.clock.now())).devices).toEqual([]);
    // Its help says so, and names the self-service reset's lock, which it lifts as well (unlockAccount).
    const help = (await f.cli.inProcess(["user", "unlock", "--help"])).stdout.replace(/\s+/g, " ");
    expect(help).toContain("known browsers");
    expect(help).toContain("self-service password reset");
  });
});
