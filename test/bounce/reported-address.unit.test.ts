import { describe, expect, it } from "vitest";
import { addressKey, reportedAddressKey } from "../../src/bounce/addresses.ts";

/** A reported address written otherwise is the same mailbox (reportedAddressKey); another mailbox stays another. */
describe("reportedAddressKey", () => {
  it.each([
    ["jane\\x{2B}famos@dealer.example", "jane+famos@dealer.example"],
    ["jane@autohaus-müller.example", "jane@xn--autohaus-mller-psb.example"],
    ["Jane@AUTOHAUS-MÜLLER.example", "jane@xn--autohaus-mller-psb.example"],
    ["desk@dealer.example.", "desk@dealer.example"],
    ["Parts Desk <parts@dealer.example>", "parts@dealer.example"],
    ["<parts@dealer.example>", "parts@dealer.example"],
    ['"service"@dealer.example', "service@dealer.example"],
    [" DESK@Dealer.Example ", "desk@dealer.example"],
  ])("%s is %s", (reported, mailed) => {
    expect(reportedAddressKey(reported)).toBe(addressKey(mailed));
    expect(reportedAddressKey(reported)).toBe(reportedAddressKey(mailed));
  });

  it.each([
    ['"two words"@dealer.example', '"two words"@dealer.example'],
    ["jane.doe@dealer.example", "jane.doe@dealer.example"],
    ["no address at all", "no address at all"],
  ])("keeps %s as it is (quotes that are needed stay)", (reported, key) => {
    expect(reportedAddressKey(reported)).toBe(key);
  });

  it("another mailbox is another", () => {
    expect(reportedAddressKey("jane\\x{2E}doe@dealer.example")).not.toBe(reportedAddressKey("j.doe@dealer.example"));
    expect(reportedAddressKey("Jane <jane@staff.dealer.example>")).not.toBe(reportedAddressKey("sales@dealer.example"));
  });
});
