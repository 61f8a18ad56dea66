import { describe, expect, it } from "vitest";
import { reasonText } from "../../src/bounce/reason-text.ts";

/**
 * A reporting server's words as they reach the console, the audit trail and an operator's terminal
 * (src/bounce/reason-text.ts, reasonText): C0, DEL and C1 controls and the Unicode line and paragraph
 * separators become one space, runs of spaces one, no space at either end, invisible format characters
 * U+FFFD, at most 300 characters (ASVS 5.3.1, 7.3.1). Runs C11–C12: no unit file asked it before.
 */
describe("reasonText", () => {
  it("turns every C0, DEL and C1 control, U+2028 and U+2029 into a space, and nothing beside them", () => {
    for (const control of ["\u0000", "\u0009", "\n", "\r", "\u001b", "\u001f", "\u007f", "\u0080", "\u009b", "\u009f", "\u2028", "\u2029"]) {
      expect(reasonText(`550${control}no such user`), JSON.stringify(control)).toBe("550 no such user");
    }
    // Their neighbours stay: "~" (U+007E) before DEL, U+00A0 after the C1 range, U+2027 and U+2030 around the separators.
    expect(reasonText("a~b\u00a0c\u00e9d\u2027e\u2030f")).toBe("a~b\u00a0c\u00e9d\u2027e\u2030f");
  });

  it("makes a run of controls and spaces one space, and trims both ends", () => {
    expect(reasonText("550\r\n\r\n  5.1.1 \u001b[2J  no   such\tuser")).toBe("550 5.1.1 [2J no such user");
    expect(reasonText("  \r\n550 mailbox full \u0000 ")).toBe("550 mailbox full");
    expect(reasonText("a  b")).toBe("a b");
    expect(reasonText("a   b")).toBe("a b");
  });

  it("shows an invisible format character as U+FFFD (a U+202E never reverses the console's words after it)", () => {
    expect(reasonText("mailbox \u202efull")).toBe("mailbox \ufffdfull");
  });

  it("keeps at most 300 characters, counted after the trim", () => {
    expect(reasonText("x".repeat(400))).toBe("x".repeat(300));
    expect(reasonText(`   ${"y".repeat(300)}`)).toBe("y".repeat(300));
    expect(reasonText("z".repeat(299))).toBe("z".repeat(299));
  });
});
