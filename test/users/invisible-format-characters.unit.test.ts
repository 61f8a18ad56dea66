import { describe, expect, it } from "vitest";
import { hasInvisibleCharacters, newLoginIdProblem, showHiddenCharacters, userFieldProblems } from "../../src/users/fields.ts";

/** Every assigned code point of general category Cf (Unicode's format characters), from the engine's own tables. */
function formatCharacters(): string[] {
  const found: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp += 1) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (/\p{Cf}/u.test(c)) found.push(c);
  }
  return found;
}

const hex = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** The ones issue 19.7's list left open: deprecated format controls, interlinear annotation, tags, variation selectors. */
const LEFT_OPEN = [
  ...[0x206a, 0x206b, 0x206c, 0x206d, 0x206e, 0x206f],
  ...[0xfff9, 0xfffa, 0xfffb],
  ...[0xe0001, 0xe0020, 0xe0041, 0xe007f],
  ...[0xfe00, 0xfe0e, 0xfe0f, 0xe0100, 0xe01ef, 0x180b, 0x180f],
].map((cp) => String.fromCodePoint(cp));

describe("invisible format characters: users/fields.ts, the one home for login IDs, names, tickets, notice titles and passkey names", () => {
  it("refuses every character of general category Cf, and the variation selectors (Mn, but default-ignorable: they show nothing)", () => {
    const cf = formatCharacters();
    expect(cf.length).toBeGreaterThan(150);
    const open = [...cf, ...LEFT_OPEN].filter((c) => !hasInvisibleCharacters(`Ja${c}ne`)).map(hex);
    expect(open).toEqual([]);
  });

  it("refuses them in a login ID and a full name, for user add, the import and the console alike", () => {
    for (const c of LEFT_OPEN) {
      const problems = userFieldProblems({ loginId: `j.smith${c}`, fullName: `Jane${c} Smith`, partnerNumber: "01234" });
      expect(problems.map((p) => p.field), hex(c)).toEqual(["loginId", "fullName"]);
    }
  });

  it("shows each of them as U+FFFD when a name stored before the rule is quoted in a mail", () => {
    for (const c of LEFT_OPEN) expect(showHiddenCharacters(`Old${c}key`), hex(c)).toBe("Old\ufffdkey");
  });

  it("takes the names of the six languages' staff as they are typed, composed or with combining accents", () => {
    const names = [
      "Siân O'Donnell-Smythe",
      "Jürgen Groß-Müller",
      "Françoise Lefèvre-Cœur",
      "Niccolò D'Àngelo",
      "Íñigo Núñez Peña",
      "Gijs van 't IJsselstein",
      "Zoë Ærøe Åström",
      "José Müller".normalize("NFD"),
    ];
    for (const fullName of names) {
      expect(hasInvisibleCharacters(fullName), fullName).toBe(false);
      expect(userFieldProblems({ loginId: "j.smith", fullName, partnerNumber: "01234" }), fullName).toEqual([]);
    }
  });

  // An iPhone's "❤️", "⚠️" or "✈️" is the pictograph and U+FE0F, which there selects how it looks:
  // seen, not hidden. Anywhere else a selector shows nothing and stays refused.
  const PICTOGRAPHS = ["\u2764", "\u26a0", "\u2708", "\u00a9", "\u{1f600}", "\u{1f44d}"];
  const INVISIBLE_LOGIN_ID = "the login ID must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)";

  it("takes U+FE0E and U+FE0F right after a pictograph (Extended_Pictographic): a name, a title, a passkey name", () => {
    for (const pictograph of PICTOGRAPHS) {
      for (const selector of ["\ufe0e", "\ufe0f"]) {
        for (const text of [`${pictograph}${selector} phone`, `Maintenance ${pictograph}${selector}`, `${pictograph}${selector}${pictograph}${selector}`]) {
          expect(hasInvisibleCharacters(text), JSON.stringify(text)).toBe(false);
          expect(showHiddenCharacters(text), JSON.stringify(text)).toBe(text);
        }
      }
    }
    expect(userFieldProblems({ loginId: "j.smith", fullName: "Jane Smith \u2764\ufe0f", partnerNumber: "01234" })).toEqual([]);
  });

  it("refuses a selector anywhere else: after a letter, a digit (a keycap's base), a space, doubled, alone, at the start, and the other selectors", () => {
    const refused = [
      "Jane\ufe0f",
      "Ja\ufe0ene",
      "1\ufe0f\u20e3 desk",
      "# \ufe0f",
      " \ufe0f",
      "\u2764\ufe0f\ufe0f",
      "\u2764\ufe0e\ufe0f",
      "\ufe0f",
      "\ufe0f\u2764",
      "\u2764\ufe00",
      "\u2764\u{e0100}",
      "\u2764\u180b",
    ];
    for (const text of refused) {
      expect(hasInvisibleCharacters(text), JSON.stringify(text)).toBe(true);
      expect(showHiddenCharacters(text), JSON.stringify(text)).toContain("\ufffd");
    }
    expect(showHiddenCharacters("\u2764\ufe0f\ufe0fx")).toBe("\u2764\ufe0f\ufffdx");
  });

  it("still refuses ZWJ, so an emoji joined of several (👩‍💻, ❤️‍🔥) is refused", () => {
    for (const text of ["\u{1f469}\u200d\u{1f4bb}", "\u2764\ufe0f\u200d\u{1f525}", "\u{1f3f3}\ufe0f\u200d\u{1f308}"]) expect(hasInvisibleCharacters(text), JSON.stringify(text)).toBe(true);
  });

  it("refuses every variation selector in a new login ID, after a pictograph too (\"jane❤\" and \"jane❤️\" would be two accounts that look alike)", () => {
    expect(newLoginIdProblem("jane\u2764")).toBeNull();
    for (const loginId of ["jane\u2764\ufe0f", "jane\u2764\ufe0e", "\u{1f600}\ufe0fjane", "jane\ufe0f"]) {
      expect(newLoginIdProblem(loginId), JSON.stringify(loginId)).toBe(INVISIBLE_LOGIN_ID);
      expect(userFieldProblems({ loginId, fullName: "Jane", partnerNumber: "01234" }).map((p) => p.message), JSON.stringify(loginId)).toEqual([INVISIBLE_LOGIN_ID]);
    }
    // The import's file check leaves the rules for new login IDs to the rows that make an account.
    expect(userFieldProblems({ loginId: "jane\u2764\ufe0f", fullName: "Jane", partnerNumber: "01234" }, { newLoginId: false })).toEqual([]);
  });
});
