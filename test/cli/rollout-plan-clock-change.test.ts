import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * QA: `famos rollout plan --from` with a wall-clock time the clocks skip (the spring change: 01:30 on
 * 2027-03-28 does not exist in London) saved the hour after and printed it, so an operator who did not
 * read the time closely never learnt it moved. It still saves the same instant (exit 0, as before), and
 * says on standard error that the typed time does not exist there and why. A time that exists, or the
 * autumn's repeated hour, is told nothing more.
 */
describe("famos rollout plan --from at a clock change", () => {
  let cli: CliWorkspace;
  beforeAll(async () => {
    cli = cliWorkspace();
    expect((await cli.inProcess(["migrate"])).code).toBe(0);
  });
  afterAll(() => cli.remove());

  it("a time in the spring gap: saved an hour later as before, with a warning saying it moved and why; exit 0", async () => {
    const set = await cli.inProcess(["rollout", "plan", "--partner", "4711", "--from", "2027-03-28T01:30"]);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe("Two-factor sign-in starts for partner 4711 at 28/03/2027 02:30 (Europe/London).\n");
    expect(set.stderr).toContain(
      "famos: warning: 28/03/2027 01:30 does not exist in Europe/London (the clocks go forward an hour then); the start is 28/03/2027 02:30\n",
    );
  });

  it("in another zone, through a real famos process: the same, exit 0", async () => {
    const env = { FAMOS_TIMEZONE: "Europe/Berlin" };
    const set = await cli.run(["rollout", "plan", "--partner", "4712", "--from", "2027-03-28 02:15"], { env });
    expect([set.code, set.stdout]).toEqual([0, "Two-factor sign-in starts for partner 4712 at 28/03/2027 03:15 (Europe/Berlin).\n"]);
    expect(set.stderr).toContain("famos: warning: 28/03/2027 02:15 does not exist in Europe/Berlin (the clocks go forward an hour then); the start is 28/03/2027 03:15\n");
  }, 30_000);

  it("times that exist (just before the gap, at its end, the autumn's repeated hour) get no such warning", async () => {
    for (const from of ["2027-03-28T00:59", "2027-03-28T02:00", "2027-10-31T01:30", "2027-07-11T07:00"]) {
      const set = await cli.inProcess(["rollout", "plan", "--partner", "4713", "--from", from]);
      expect([from, set.code, set.stderr]).toEqual([from, 0, expect.not.stringContaining("does not exist")]);
    }
  });
});
