import { describe, expect, it } from "vitest";
import { editDistance, suggestDomain } from "../../src/enrolment/typo.ts";

describe("\"Did you mean …?\" domains (issue 15)", () => {
  it("counts the slips of a keyboard as one edit each: missed, added, changed, swapped", () => {
    expect(editDistance("gmail.com", "gmail.com")).toBe(0);
    expect(editDistance("gmal.com", "gmail.com")).toBe(1);
    expect(editDistance("gmaill.com", "gmail.com")).toBe(1);
    expect(editDistance("gmail.con", "gmail.com")).toBe(1);
    expect(editDistance("gmial.com", "gmail.com")).toBe(1);
    expect(editDistance("hotmial.co.uk", "hotmail.co.uk")).toBe(1);
  });

  it("suggests the nearest common domain or the partner's usual one, preferring the partner's", () => {
    expect(suggestDomain("gmial.com", null)).toBe("gmail.com");
    expect(suggestDomain("hotmail.co.k", null)).toBe("hotmail.co.uk");
    expect(suggestDomain("Outlok.com", null)).toBe("outlook.com");
    expect(suggestDomain("dealer-grup.co.uk", "dealer-group.co.uk")).toBe("dealer-group.co.uk");
    expect(suggestDomain("dealergroup.co.uk", "dealer-group.co.uk")).toBe("dealer-group.co.uk");
  });

  it("takes a listed or a distant domain as typed", () => {
    expect(suggestDomain("gmail.com", "dealer.example")).toBeNull();
    expect(suggestDomain("mail.com", null)).toBeNull();
    expect(suggestDomain("dealer.example", "dealer.example")).toBeNull();
    expect(suggestDomain("north-motors.example", "dealer-group.co.uk")).toBeNull();
    // Short names allow one edit only: "sky.org" is not a slip of "sky.com".
    expect(suggestDomain("sky.org", null)).toBeNull();
  });
});
