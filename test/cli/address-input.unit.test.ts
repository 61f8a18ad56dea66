import { describe, expect, it } from "vitest";
import { parseAddress } from "../../src/support/address-locks.ts";

/**
 * `famos address show|unlock` (and the console's form) take an IPv6 /64 as well as an address. Any
 * spelling of one /64 must find the counter the server keeps under it: otherwise "2001:db8::/64",
 * the way an operator writes it, says "no failed sign-ins counted" while the address stays locked.
 */
describe("an address as support types it", () => {
  const counted = (raw: string) => {
    const parsed = parseAddress(raw);
    return parsed.ok ? parsed.address : parsed.message;
  };

  it("any spelling of an IPv6 /64 is the key its addresses are counted under", () => {
    const key = counted("2001:db8::1");
    expect(key).toBe("2001:db8:0:0::/64");
    for (const spelling of ["2001:db8::/64", "2001:DB8:0:0::/64", "2001:0db8:0000:0000::/64", " 2001:db8:0:0::/64 "]) expect(counted(spelling), spelling).toBe(key);
  });

  it("a /64 is the only prefix taken; an IPv4 CIDR or junk is refused, quoted", () => {
    expect(counted("203.0.113.0/24")).toBe('"203.0.113.0/24" is not an IP address (such as 203.0.113.7 or 2001:db8::1)');
    expect(counted("2001:db8::/48")).toContain("is not an IP address");
  });
});
