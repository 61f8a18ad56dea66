import { describe, expect, it } from "vitest";
import { addressAllowed } from "../../src/web/ip-allow.ts";

/**
 * FAMOS_TRUSTED_NETWORKS and FAMOS_METRICS_ALLOW are both read through addressAllowed: an address is
 * in a list when one of its ranges holds it. Each answer is asked again for every sign-in step, so it
 * is kept per list and address (issue 17): these pin that a kept answer is the list's own, whatever
 * another list said of the same address, and whatever order they were asked in.
 */
describe("addressAllowed", () => {
  it("answers by the ranges: IPv4 subnets and single addresses, IPv6 subnets, IPv4-mapped IPv6", () => {
    const ranges = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/48"];
    for (let round = 0; round < 2; round++) {
      expect(addressAllowed("10.20.30.40", ranges)).toBe(true);
      expect(addressAllowed("11.0.0.1", ranges)).toBe(false);
      expect(addressAllowed("192.0.2.7", ranges)).toBe(true);
      expect(addressAllowed("192.0.2.8", ranges)).toBe(false);
      expect(addressAllowed("::ffff:10.1.2.3", ranges)).toBe(true);
      expect(addressAllowed("::ffff:11.1.2.3", ranges)).toBe(false);
      expect(addressAllowed("2001:db8:0:1::5", ranges)).toBe(true);
      expect(addressAllowed("2001:db9::5", ranges)).toBe(false);
    }
  });

  it("an empty list holds no address; malformed ranges are passed over", () => {
    for (let round = 0; round < 2; round++) {
      expect(addressAllowed("127.0.0.1", [])).toBe(false);
      expect(addressAllowed("::1", [])).toBe(false);
      expect(addressAllowed("127.0.0.1", ["dealer.example", "127.0.0.1/8"])).toBe(true);
      expect(addressAllowed("10.0.0.1", ["dealer.example"])).toBe(false);
    }
  });

  it("one address asked of two lists gets each list's own answer, in either order", () => {
    const a = ["203.0.113.0/24"];
    const b = ["198.51.100.0/24"];
    expect(addressAllowed("203.0.113.9", a)).toBe(true);
    expect(addressAllowed("203.0.113.9", b)).toBe(false);
    expect(addressAllowed("198.51.100.9", b)).toBe(true);
    expect(addressAllowed("198.51.100.9", a)).toBe(false);
    expect(addressAllowed("203.0.113.9", a)).toBe(true);
    expect(addressAllowed("203.0.113.9", b)).toBe(false);
  });

  it("past the kept answers' bound every address is still answered by its list", () => {
    const ranges = ["100.64.0.0/10"];
    for (let i = 0; i < 5000; i++) {
      const inside = `100.${64 + (i % 64)}.${(i >> 6) % 256}.${i % 256}`;
      const outside = `100.${128 + (i % 64)}.${(i >> 6) % 256}.${i % 256}`;
      expect(addressAllowed(inside, ranges)).toBe(true);
      expect(addressAllowed(outside, ranges)).toBe(false);
    }
  });
});
