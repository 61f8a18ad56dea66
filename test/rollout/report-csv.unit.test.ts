import { expect, it } from "vitest";
import { rolloutCsv } from "../../src/rollout/report.ts";

const FIGURES = { users: 1, enrolled: 0, pending: 0, notStarted: 1, locked: 0, disabled: 0 };

/**
 * starts_local is a wall clock: without its offset a start in summer and one in winter read alike, and
 * a start in the hour the clocks go back reads the same twice. starts_local_offset says it, as the
 * audit CSV's time_local_offset does.
 */
it("gives each start's UTC offset in the reader's zone, summer and winter; the total row has none", () => {
  const progress = {
    overall: { ...FIGURES, users: 3, notStarted: 3 },
    partners: [
      { partnerNumber: "1001", startsAt: Date.UTC(2027, 6, 11, 6), ...FIGURES },
      { partnerNumber: "1002", startsAt: Date.UTC(2027, 0, 11, 7), ...FIGURES },
      { partnerNumber: "1003", startsAt: null, ...FIGURES },
    ],
    days: [],
  };
  const rows = rolloutCsv(progress, "Europe/Berlin").split("\r\n");
  expect(rows[0]).toMatch(/,"disabled","starts_local_offset"$/);
  expect(rows[1]).toBe('"1001","2027-07-11T06:00:00.000Z","11/07/2027 08:00","1","0","0","1","0","0","UTC+02:00"');
  expect(rows[2]).toBe('"1002","2027-01-11T07:00:00.000Z","11/01/2027 08:00","1","0","0","1","0","0","UTC+01:00"');
  expect(rows[3]).toBe('"1003","","","1","0","0","1","0","0",""');
  expect(rows[4]).toBe('"all","","","3","0","0","3","0","0",""');
});
