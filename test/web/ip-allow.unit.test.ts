import { describe, expect, it } from "vitest";
import { addressAllowed } from "../../src/web/ip-allow.ts";

describe("addressAllowed", () => {
  const ranges = ["127.0.0.1/8", "::1", "10.0.0.5", "2001:db8::/32"];

  it("answers by the ranges, the same when asked again (answers are kept)", () => {
    for (let round = 0; round < 2; round += 1) {
      expect(addressAllowed("127.9.9.9", ranges)).toBe(true);
      expect(addressAllowed("10.0.0.5", ranges)).toBe(true);
      expect(addressAllowed("10.0.0.6", ranges)).toBe(false);
      expect(addressAllowed("::1", ranges)).toBe(true);
      expect(addressAllowed("::ffff:127.0.0.1", ranges)).toBe(true);
      expect(addressAllowed("::ffff:192.0.2.1", ranges)).toBe(false);
      expect(addressAllowed("2001:db8:1::7", ranges)).toBe(true);
      expect(addressAllowed("2001:db9::7", ranges)).toBe(false);
    }
  });

  it("keeps each list's answers apart", () => {
    expect(addressAllowed("10.0.0.6", ["10.0.0.0/24"])).toBe(true);
    expect(addressAllowed("10.0.0.6", ["10.0.1.0/24"])).toBe(false);
    expect(addressAllowed("10.0.0.6", [])).toBe(false);
  });

  it("stays right past the number of answers it keeps", () => {
    for (let i = 0; i < 12_000; i += 1) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      expect(addressAllowed(ip, ["10.0.0.0/20"])).toBe(i < 4096);
    }
  });
});
