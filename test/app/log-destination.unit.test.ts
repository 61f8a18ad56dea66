import { describe, expect, it } from "vitest";
import { urgent } from "../../src/app/log-destination.ts";

describe("the batched log's urgent lines", () => {
  it("hands over warnings, errors and fatal lines at once, and batches the rest", () => {
    const line = (level: number) => `${JSON.stringify({ level, time: 1, msg: "m" })}\n`;
    expect([10, 20, 30].map((l) => urgent(line(l)))).toEqual([false, false, false]);
    expect([40, 50, 60].map((l) => urgent(line(l)))).toEqual([true, true, true]);
    expect(urgent("not json\n")).toBe(false);
  });
});
