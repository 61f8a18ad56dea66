import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkNewPassword } from "../../src/password/policy.ts";

function reasonFor(password: string, context?: { loginId?: string; name?: string }): string {
  const check = checkNewPassword(password, context);
  return check.ok ? "ok" : check.reason;
}

describe("length (NIST SP 800-63B 5.1.1.2)", () => {
  it("refuses 11 characters and accepts 12", () => {
    expect(checkNewPassword("tulip garden")).toEqual({ ok: true });
    expect(checkNewPassword("tulip garde")).toEqual({
      ok: false,
      reason: "too-short",
      message: "Choose a password of at least 12 characters.",
    });
  });

  it("accepts 128 and 256 characters, refuses 257", () => {
    const phrase = "walnut ferry lantern ";
    expect(reasonFor(phrase.repeat(7).slice(0, 128))).toBe("ok");
    expect(reasonFor(phrase.repeat(13).slice(0, 256))).toBe("ok");
    expect(checkNewPassword(phrase.repeat(13).slice(0, 257))).toEqual({ ok: false, reason: "too-long", message: "Choose a password of at most 256 characters." });
  });

  it("counts an emoji as one character", () => {
    // "🔑" is one code point but two UTF-16 units: 11 code points here, 12 units.
    expect("tulip gard🔑".length).toBe(12);
    expect(reasonFor("tulip gard🔑")).toBe("too-short");
    expect(reasonFor("tulip garde🔑")).toBe("ok");
  });

  it("counts a composed accent as one character, however it was typed (NFC)", () => {
    const decomposed = "crème brûlé".normalize("NFD"); // 11 characters, 13 code points before NFC
    expect(reasonFor(decomposed)).toBe("too-short");
  });
});

describe("a NUL character", () => {
  it("is refused: every form refuses it before the password is read, so it could never be typed at sign-in", () => {
    expect(checkNewPassword("walnut ferry\u0000lantern")).toEqual({ ok: false, reason: "nul", message: "A password cannot contain a NUL character." });
    expect(reasonFor("walnut ferry\u0001lantern")).toBe("ok");
  });
});

describe("no composition rules", () => {
  it.each(["all lower case letters", "ALL UPPER CASE", "9 lives, 4 cats & 2 dogs", "çà et là, 一二三四五"])(
    "accepts %j",
    (password) => expect(checkNewPassword(password)).toEqual({ ok: true }),
  );
});

describe("common passwords", () => {
  it.each(["password1234", "PassWord1234", "1qaz2wsx3edc", "qwertyuiopasdfghjkl"])(
    "refuses %j, whatever its case",
    (password) => {
      expect(checkNewPassword(password)).toEqual({
        ok: false,
        reason: "common",
        message: "That password is among the most commonly used passwords; choose another.",
      });
    },
  );

  it("reads the shipped list afresh (a module of its own, not the one other tests loaded): every entry and nothing of its header", async () => {
    // A query makes a separate instance of the module, so its list is read again here (under a
    // mutation run too, where the modules stay loaded from one run to the next: a new query each time).
    const fresh = `../../src/password/common-passwords.ts?fresh=${randomUUID()}`;
    const { isCommonPassword } = (await import(fresh)) as typeof import("../../src/password/common-passwords.ts");
    const file = new URL("../../src/password/common-passwords.txt", import.meta.url);
    const lines = readFileSync(file, "utf8").split("\n");
    const header = lines.slice(0, lines.indexOf(""));
    expect(header.length).toBeGreaterThan(0);
    for (const line of header) expect(isCommonPassword(line), line).toBe(false);
    expect(isCommonPassword("")).toBe(false);
    expect(isCommonPassword("password1234")).toBe(true);
    expect(lines.slice(lines.indexOf("") + 1).filter((line) => line !== "" && !isCommonPassword(line))).toEqual([]);
  });

  it("refuses every one of the 10,000 entries of the shipped list", () => {
    const file = new URL("../../src/password/common-passwords.txt", import.meta.url);
    const lines = readFileSync(file, "utf8").split("\n");
    const entries = lines.slice(lines.indexOf("") + 1).filter((line) => line !== "");
    expect(entries).toHaveLength(10_000);
    expect(new Set(entries).size).toBe(10_000);
    expect(entries.filter((entry) => reasonFor(entry) !== "common")).toEqual([]);
  });
});

describe("context", () => {
  it("refuses the login ID, whatever its case", () => {
    const check = checkNewPassword("Maria.Schmidt", { loginId: "maria.schmidt" });
    expect(check).toEqual({
      ok: false,
      reason: "contains-login-id",
      message: "Choose a password that is not your login ID or your name.",
    });
  });

  it("refuses the person's name", () => {
    expect(reasonFor("maria schmidt", { name: "Maria Schmidt" })).toBe("contains-login-id");
  });

  it("accepts a password that merely differs from them", () => {
    expect(reasonFor("maria.schmidt!", { loginId: "maria.schmidt", name: "" })).toBe("ok");
  });
});
