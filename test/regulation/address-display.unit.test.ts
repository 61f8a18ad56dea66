import { describe, expect, it } from "vitest";
import { addressKey, shownAddress } from "../../src/regulation/address.ts";

/**
 * QA: `famos address show ::1` printed `0:0:0:0::/64`. An IPv6 /64 is shown in RFC 5952's form (the
 * longest run of two or more zero groups as "::", the first of equal runs); the stored key is unchanged.
 */
describe("an address key as shown (RFC 5952 §4.2)", () => {
  it.each([
    ["::1", "::/64"],
    ["::", "::/64"],
    ["2001:db8::1", "2001:db8::/64"],
    ["2001:db8:1:2::99", "2001:db8:1:2::/64"],
    ["2001:0:0:1::5", "2001:0:0:1::/64"],
    ["0:0:1:0::7", "0:0:1::/64"],
    ["fe80::1", "fe80::/64"],
  ])("%s is shown as %s", (ip, shown) => {
    expect(shownAddress(addressKey(ip))).toBe(shown);
  });

  it("leaves IPv4 addresses and the stored key as they are", () => {
    expect(shownAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});
