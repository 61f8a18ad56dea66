import { describe, expect, it } from "vitest";
import { isCannotWrite, WriteReadiness } from "../../src/store/write-readiness.ts";

const fault = (code: string) => Object.assign(new Error(code), { code });

describe("WriteReadiness (/readyz: does the database take writes?)", () => {
  it("writes nothing while no request met a cannot-write fault", async () => {
    let probes = 0;
    const readiness = new WriteReadiness(async () => probes++, () => 0);
    readiness.noteFault(fault("SQLITE_BUSY"));
    readiness.noteFault(new Error("a fault of ours"));
    expect(await readiness.takesWrites()).toBe(true);
    expect(probes).toBe(0);
  });

  it("after a full disk: unready, one probe write at most every 5 s however often asked, ready once one succeeds", async () => {
    let now = 0;
    let full = true;
    let probes = 0;
    const readiness = new WriteReadiness(async () => {
      probes++;
      if (full) throw fault("SQLITE_FULL");
    }, () => now);
    readiness.noteFault(fault("SQLITE_FULL"));
    for (let i = 0; i < 10; i++) expect(await readiness.takesWrites()).toBe(false);
    expect(probes).toBe(0);
    now = 5000;
    expect(await readiness.takesWrites()).toBe(false);
    now = 9999;
    expect(await readiness.takesWrites()).toBe(false);
    expect(probes).toBe(1);
    full = false;
    now = 10_000;
    expect(await readiness.takesWrites()).toBe(true);
    expect(await readiness.takesWrites()).toBe(true);
    expect(probes).toBe(2);
  });

  /**
   * A nearly full disk takes the probe's one page and refuses a sign-in's fifty: readiness came back
   * after 5 s, the load balancer sent users again, a sign-in failed, and so on every 5 s, each return
   * costing real users a failed sign-in. Each relapse within a minute of readiness returning doubles
   * the wait (up to a minute); a minute of writes without a fault starts it again from 5 s.
   */
  it("waits twice as long after each relapse soon after readiness returned, and 5 s again after a quiet minute", async () => {
    let now = 0;
    let probes = 0;
    const readiness = new WriteReadiness(async () => probes++, () => now);
    /** A fault at `at`, then the time from it to ready again, asked every second. */
    const unreadyFor = async (at: number): Promise<number> => {
      now = at;
      readiness.noteFault(fault("SQLITE_FULL"));
      while (!(await readiness.takesWrites())) now += 1000;
      return now - at;
    };
    expect(await unreadyFor(0)).toBe(5000);
    expect(await unreadyFor(6000)).toBe(10_000);
    expect(await unreadyFor(20_000)).toBe(20_000);
    expect(await unreadyFor(41_000)).toBe(40_000);
    expect(await unreadyFor(82_000)).toBe(60_000);
    expect(await unreadyFor(143_000)).toBe(60_000);
    // A minute and more of ready without a fault: the next is a first one again.
    expect(await unreadyFor(203_000 + 60_000)).toBe(5000);
    expect(probes).toBe(7);
  });

  it("counts full disks, failing disks and read-only databases on both dialects", () => {
    for (const code of ["SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_READONLY", "SQLITE_READONLY_DBMOVED", "53100", "58030", "25006"]) expect(isCannotWrite(fault(code)), code).toBe(true);
    for (const code of ["SQLITE_BUSY", "SQLITE_CONSTRAINT_UNIQUE", "57014", "23505"]) expect(isCannotWrite(fault(code)), code).toBe(false);
  });
});
