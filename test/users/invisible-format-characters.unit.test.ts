import { describe, expect, it } from "vitest";
import { hasInvisibleCharacters, showHiddenCharacters, userFieldProblems } from "../../src/users/fields.ts";

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
});
