import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Most runs go through the CLI's main() in this process (cli.inProcess: the same output and exit
 * code, without half a second of loading the bundle each); a real `famos` process (cli.run) for one of
 * each kind of answer: the first test's listing, refused time (exit 1), settings refused at start and
 * usage error (exit 2), each compared with main()'s answer; a warning with exit 0, the production
 * refusal and dry run.
 */
describe("famos rollout plan and status, run as commands", () => {
  let cli: CliWorkspace;

  beforeAll(async () => {
    cli = cliWorkspace();
    const hash = bcryptHash("a password of some length");
    const rows = [HEADER, `ann,Ann A,4711,,ann@dealer.example,${hash}`, `bo,Bo B,4711,,,${hash}`, `cy,Cy C,0815,,,${hash}`];
    writeFileSync(join(cli.dir, "users.csv"), `${rows.join("\n")}\n`);
    expect((await cli.inProcess(["user", "import", join(cli.dir, "users.csv")])).code).toBe(0);
  });
  afterAll(() => cli.remove());

  it("a command answers the same through main() in this process as a real famos process: output, refusal, settings refused at start, usage error", async () => {
    const cases: Array<[string[], Record<string, string>]> = [
      [["rollout", "plan"], {}],
      [["rollout", "status"], {}],
      [["rollout", "plan", "--partner", "4711", "--from", "2027-02-30T07:00"], {}],
      [["rollout", "plan"], { FAMOS_OTP_TTL: "soon" }],
      [["rollout", "plan", "--partner", "4711", "--from", "2027-01-11T07:00", "--remove"], {}],
    ];
    for (const [args, env] of cases) {
      const real = await cli.run(args, { env });
      expect([args, env, await cli.inProcess(args, { env })]).toEqual([args, env, real]);
    }
  }, 60_000);

  it("--from takes a space for the T (\"2026-12-06 08:00\", as people write it), the same local time; other forms are still refused with the reason", async () => {
    const spaced = await cli.inProcess(["rollout", "plan", "--partner", "9901", "--from", "2026-12-06 08:00"]);
    expect([spaced.code, spaced.stdout]).toEqual([0, "Two-factor sign-in starts for partner 9901 at 06/12/2026 08:00 (Europe/London).\n"]);
    const withT = await cli.inProcess(["rollout", "plan", "--partner", "9902", "--from", "2026-12-06T08:00"]);
    expect(withT.stdout).toBe("Two-factor sign-in starts for partner 9902 at 06/12/2026 08:00 (Europe/London).\n");
    expect((await cli.inProcess(["rollout", "plan"])).stdout).toContain("partner 9901         06/12/2026 08:00\npartner 9902         06/12/2026 08:00\n");
    for (const from of ["2026-12-06", "2026-12-06  08:00", "2026-12-0608:00", "2026-12-06 8:00", "2026-12-06_08:00"]) {
      const refused = await cli.inProcess(["rollout", "plan", "--partner", "9903", "--from", from]);
      expect([from, refused.code, refused.stderr]).toEqual([from, 1, "famos: The start must be a date and time such as 2027-01-11T07:00 (read in Europe/London).\n"]);
    }
    for (const partner of ["9901", "9902"]) expect((await cli.inProcess(["rollout", "plan", "--partner", partner, "--remove"])).code).toBe(0);
  });

  it("sets, shows and removes waves in FAMOS_TIMEZONE, and refuses a bad time with exit 1", async () => {
    expect((await cli.inProcess(["rollout", "plan"])).stdout).toBe("No plan: two-factor sign-in applies to every user now.\n");
    const set = await cli.inProcess(["rollout", "plan", "--partner", "4711", "--from", "2027-07-11T07:00"]);
    expect(set.stdout).toBe("Two-factor sign-in starts for partner 4711 at 11/07/2027 07:00 (Europe/London).\n");
    expect((await cli.inProcess(["rollout", "plan", "--from", "2027-08-01T07:00"])).code).toBe(0);
    expect((await cli.inProcess(["rollout", "plan"])).stdout).toBe("default              01/08/2027 07:00\npartner 4711         11/07/2027 07:00\n(times in Europe/London)\n");
    const status = JSON.parse((await cli.inProcess(["rollout", "status", "--json"])).stdout);
    // Summer time: 07:00 in London is 06:00 UTC.
    expect(status.partners).toEqual([
      { partnerNumber: "0815", startsAt: "2027-08-01T06:00:00.000Z", users: 1, enrolled: 0, pending: 0, notStarted: 1, locked: 0, disabled: 0 },
      { partnerNumber: "4711", startsAt: "2027-07-11T06:00:00.000Z", users: 2, enrolled: 1, pending: 0, notStarted: 1, locked: 0, disabled: 0 },
    ]);
    expect(status.overall).toEqual({ users: 3, enrolled: 1, pending: 0, notStarted: 2, locked: 0, disabled: 0 });
    expect((await cli.inProcess(["rollout", "status"])).stdout).toContain("33% of users have a confirmed OTP email");

    const bad = await cli.inProcess(["rollout", "plan", "--partner", "4711", "--from", "2027-02-30T07:00"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("famos: The start must be a date and time such as 2027-01-11T07:00 (read in Europe/London).\n");
    expect((await cli.inProcess(["rollout", "plan", "--partner", "47 11", "--from", "2027-01-11T07:00"])).code).toBe(1);
    // A partner number nobody has (the users' is 0815): saved, with a warning on standard error.
    const typo = await cli.run(["rollout", "plan", "--partner", "815", "--from", "2027-01-11T07:00"]);
    expect(typo.code).toBe(0);
    expect(typo.stdout).toBe("Two-factor sign-in starts for partner 815 at 11/01/2027 07:00 (Europe/London).\n");
    expect(typo.stderr).toBe("famos: warning: no user has partner number 815 yet; check it (leading zeros count)\n");
    expect((await cli.inProcess(["rollout", "plan", "--partner", "815", "--remove"])).code).toBe(0);
    expect((await cli.inProcess(["rollout", "plan", "--partner", "0815", "--from", "2027-01-11T07:00"])).stderr).toBe("");
    expect((await cli.inProcess(["rollout", "plan", "--partner", "0815", "--remove"])).code).toBe(0);
    // A start in the past (the command runs on the real clock): saved, with a warning on standard error.
    const past = await cli.inProcess(["rollout", "plan", "--partner", "0815", "--from", "2020-01-06T07:00"]);
    expect(past.code).toBe(0);
    expect(past.stdout).toBe("Two-factor sign-in starts for partner 0815 at 06/01/2020 07:00 (Europe/London).\n");
    expect(past.stderr).toBe("famos: warning: the start is in the past: two-factor sign-in applies from these users' next sign-in\n");
    expect((await cli.inProcess(["rollout", "plan", "--partner", "0815", "--remove"])).code).toBe(0);
    expect((await cli.inProcess(["rollout", "plan", "--partner", "4711", "--remove"])).stdout).toBe("Removed partner 4711.\n");
    expect((await cli.inProcess(["rollout", "plan", "--partner", "4711", "--remove"])).stderr).toBe("famos: there is no start for partner 4711 to remove\n");
    expect((await cli.inProcess(["rollout", "announce", "--partner", "bad partner"])).code).toBe(1);
    // Without FAMOS_PUBLIC_URL in production the mail would send staff to http://localhost:3000: refused,
    // nobody mailed; a dry run warns. In development mode (SPEC's default address) it warns and mails.
    const unknown = "FAMOS_PUBLIC_URL is not set: the announcement would tell everyone to sign in at http://localhost:3000";
    const production = { NODE_ENV: "production", FAMOS_SMTP_URL: "smtp://127.0.0.1:1", FAMOS_MAIL_FROM: "no-reply@famos.test", FAMOS_SUPPORT_EMAIL: "retailit@famos.test" };
    const refused = await cli.run(["rollout", "announce", "--partner", "4711"], { env: production });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`famos: ${unknown}. Set it to the address staff use (such as https://famos.dealer.example) and run the command again; nobody was mailed\n`);
    const dry = await cli.run(["rollout", "announce", "--partner", "4711", "--dry-run"], { env: production });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(" would be mailed, ");
    expect(dry.stderr).toBe(`famos: warning: ${unknown}; set it before the real run\n`);
    const development = await cli.inProcess(["rollout", "announce", "--partner", "4711"]);
    expect(development.code).toBe(0);
    expect(development.stdout).toMatch(/^0 mailed, /);
    expect(development.stderr).toBe(`famos: warning: ${unknown} (development mode; in production the command refuses)\n`);
    // Real process starts among them: generous on a loaded 2-core machine.
  }, 120_000);

  it("announce --partner with a number no user has warns as plan does (leading zeros count), and announces no one", async () => {
    const env = { FAMOS_PUBLIC_URL: "https://famos.dealer.example" };
    const warning = "famos: warning: no user has partner number 77777 yet; check it (leading zeros count)\n";
    const typo = await cli.inProcess(["rollout", "announce", "--partner", "77777"], { env });
    expect([typo.code, typo.stderr]).toEqual([0, warning]);
    expect(typo.stdout).toMatch(/^0 mailed, /);
    expect((await cli.inProcess(["rollout", "announce", "--partner", "815", "--dry-run"], { env })).stderr).toBe(warning.replace("77777", "815"));
    expect((await cli.inProcess(["rollout", "announce", "--partner", "0815", "--dry-run"], { env })).stderr).toBe("");
  });

  it("moving a wave after its announcement warns that its users are mailed the new start by the next announce", async () => {
    writeFileSync(join(cli.dir, "wave.csv"), `${HEADER}\ndee,Dee D,7001,,dee@dealer.example,${bcryptHash("a password of some length")}\n`);
    expect((await cli.inProcess(["user", "import", "--email-as-contact", join(cli.dir, "wave.csv")])).code).toBe(0);
    expect((await cli.inProcess(["rollout", "plan", "--partner", "7001", "--from", "2027-07-11T07:00"])).stderr).toBe("");
    expect((await cli.inProcess(["rollout", "announce", "--partner", "7001"])).stdout).toMatch(/^1 mailed/);
    expect((await cli.inProcess(["rollout", "plan", "--partner", "7001", "--from", "2027-07-11T07:00"])).stderr).toBe("");
    const moved = await cli.inProcess(["rollout", "plan", "--partner", "7001", "--from", "2027-07-18T07:00"]);
    expect(moved.code).toBe(0);
    expect(moved.stderr).toBe("famos: warning: 1 user was already mailed the start this replaces; `famos rollout announce` mails them the new one\n");
    expect((await cli.inProcess(["rollout", "announce", "--partner", "7001"])).stdout).toMatch(/^1 mailed/);
  }, 60_000);

  it("says how many two factors already apply to, not mailed: a support account without an OTP email", async () => {
    const hash = bcryptHash("a password of some length");
    writeFileSync(join(cli.dir, "desk.csv"), `${HEADER}\ngus,Gus G,7004,,gus@dealer.example,${hash}\ndesk7004,Desk D,7004,support,desk@dealer.example,${hash}\n`);
    expect((await cli.inProcess(["user", "import", "--email-as-contact", join(cli.dir, "desk.csv")])).code).toBe(0);
    const dry = await cli.inProcess(["rollout", "announce", "--partner", "7004", "--dry-run"]);
    expect(dry.stdout.split("\n")[0]).toBe(
      "1 would be mailed, 0 already announced (not mailed again), 0 already enrolled (not mailed), 1 already signing in with two factors (an OTP email reset by support, or a role that always does: not mailed), 0 without any address.",
    );
  }, 60_000);

  it("a contact address corrected by import --update is announced again; the same address again is not", async () => {
    const hash = bcryptHash("a password of some length");
    const file = (address: string) => {
      writeFileSync(join(cli.dir, "fix.csv"), `${HEADER}\nfay,Fay F,7002,,${address},${hash}\n`);
      return join(cli.dir, "fix.csv");
    };
    expect((await cli.inProcess(["user", "import", "--email-as-contact", file("fay@dealr.example")])).code).toBe(0);
    expect((await cli.inProcess(["rollout", "announce", "--partner", "7002"])).stdout).toMatch(/^1 mailed/);
    expect((await cli.inProcess(["user", "import", "--email-as-contact", "--update", file("FAY@dealr.example")])).code).toBe(0);
    expect((await cli.inProcess(["rollout", "announce", "--partner", "7002"])).stdout).toMatch(/^0 mailed, 1 already announced/);
    expect((await cli.inProcess(["user", "import", "--email-as-contact", "--update", file("fay@dealer.example")])).code).toBe(0);
    expect((await cli.inProcess(["rollout", "announce", "--partner", "7002"])).stdout).toMatch(/^1 mailed, 0 already announced/);
  }, 60_000);

  it("a dry run lists who would be mailed (partner, login ID, name, masked address), the first 50 and how many more", async () => {
    const hash = bcryptHash("a password of some length");
    const rows = Array.from({ length: 52 }, (_, i) => `w${String(i).padStart(2, "0")},Wu ${i},7003,,w${i}@dealer.example,${hash}`);
    writeFileSync(join(cli.dir, "many.csv"), `${HEADER}\n${rows.join("\n")}\n`);
    expect((await cli.inProcess(["user", "import", "--email-as-contact", join(cli.dir, "many.csv")])).code).toBe(0);
    const dry = await cli.inProcess(["rollout", "announce", "--partner", "7003", "--dry-run"]);
    expect(dry.code).toBe(0);
    const lines = dry.stdout.split("\n");
    expect(lines[0]).toBe("52 would be mailed, 0 already announced (not mailed again), 0 already enrolled (not mailed), 0 without any address.");
    expect(lines[1]).toBe("Users who would be mailed (partner, login ID, name, address):");
    expect(lines[2]).toBe("  7003\tw00\tWu 0\tw•••@dealer.example");
    expect(lines[51]).toBe("  7003\tw49\tWu 49\tw•••@dealer.example");
    expect(lines[52]).toBe("  … and 2 more");
    expect(dry.stdout).not.toContain("w50\t");
    // A real run prints no such list. Its 52 mails at the default 5 a second would take ten seconds of
    // waiting: the pace is announce.test's (FAMOS_ANNOUNCE_RATE), not this test's.
    expect((await cli.inProcess(["rollout", "announce", "--partner", "7003"], { env: { FAMOS_ANNOUNCE_RATE: "1000/s" } })).stdout).not.toContain("would be mailed");
  }, 60_000);

  it("refuses an empty --partner (a script's unset variable) with exit 1, instead of changing or removing the default start", async () => {
    expect((await cli.inProcess(["rollout", "plan", "--from", "2027-09-01T07:00"])).code).toBe(0);
    const plan = (await cli.inProcess(["rollout", "plan"])).stdout;
    for (const args of [["--partner", "", "--from", "2027-01-11T07:00"], ["--partner", " ", "--from", "2027-01-11T07:00"], ["--partner", "", "--remove"]]) {
      const result = await cli.inProcess(["rollout", "plan", ...args]);
      expect(result.code, JSON.stringify(args)).toBe(1);
      expect(result.stderr).toBe("famos: --partner is empty: give a partner number, or leave --partner out for the default start\n");
    }
    expect((await cli.inProcess(["rollout", "plan"])).stdout).toBe(plan);
    // --from with --remove is a usage error (SPEC: exit 2), and changes nothing either.
    const both = await cli.inProcess(["rollout", "plan", "--partner", "4711", "--from", "2027-01-11T07:00", "--remove"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("famos: give either --from or --remove, not both\n");
    expect((await cli.inProcess(["rollout", "plan"])).stdout).toBe(plan);
  }, 60_000);
});

describe("rollout settings", () => {
  it("read FAMOS_2FA_GRACE_SIGNINS and FAMOS_ANNOUNCE_RATE (5 or 5/s), and report bad values by name", () => {
    const ok = loadConfig({ FAMOS_2FA_GRACE_SIGNINS: "3", FAMOS_ANNOUNCE_RATE: "20/s" });
    expect(ok.ok && ok.config.rollout).toEqual({ graceSignIns: 3, announceRate: 20 });
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.config.rollout).toEqual({ graceSignIns: 0, announceRate: 5 });
    const bad = loadConfig({ FAMOS_2FA_GRACE_SIGNINS: "many", FAMOS_ANNOUNCE_RATE: "0" });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors).toEqual([
      'FAMOS_2FA_GRACE_SIGNINS: must be a whole number from 0 to 100 (got "many")',
      'FAMOS_ANNOUNCE_RATE: must be mails per second from 1 to 1000, such as 5 or 5/s (got "0")',
    ]);
  });
});
