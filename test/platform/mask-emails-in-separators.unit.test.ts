import { afterEach, describe, expect, it, vi } from "vitest";
import { maskEmailsIn } from "../../src/platform/mask-emails.ts";

/**
 * maskEmailsIn's existing forms, where run E3 (2026-12-08) found survivors: a percent-encoded "@" is %40 or
 * %2540 exactly (separatorAt), nothing that differs from them in one character; and the next "@" or "%" is
 * searched again only once the scan has passed it (a search from each "%" to a far "@" is quadratic).
 */
describe("maskEmailsIn: separators and the scan (unit tier)", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(["jane%41contoso.example", "jane%4", "jane%3540contoso.example", "jane%2640contoso.example", "jane%2550contoso.example", "jane%2541contoso.example", "jane%9990contoso.example", "jane%9940contoso.example", "jane%9540contoso.example"])(
    "%s: no separator, left as it is",
    (text) => {
      expect(maskEmailsIn(text)).toBe(text);
    },
  );

  it("masks %40 and %2540 themselves", () => {
    expect(maskEmailsIn("jane%40contoso.example")).toBe("j•••%40contoso.example");
    expect(maskEmailsIn("jane%2540contoso.example")).toBe("j•••%2540contoso.example");
  });

  it.each([
    ["many '%' before one far '@'", "%".repeat(50_000) + "jane@x.example"],
    ["many '@' before one far '%40'", "@".repeat(50_000) + "jane%40x.example"],
  ])("searches a far separator once: %s", (_what, text) => {
    const indexOf = vi.spyOn(String.prototype, "indexOf");
    const masked = maskEmailsIn(text);
    // A "%" that is no "@" is a local part's character (maskfix): the whole run before the far "@" is its local part.
    expect(masked === "%•••@x.example" || masked.endsWith("j•••%40x.example")).toBe(true);
    expect(indexOf.mock.calls.length).toBeLessThanOrEqual(text.length + 4);
  });
});
