import { describe, expect, it } from "vitest";
import { maskEmailsIn } from "../../src/platform/mask-emails.ts";

/**
 * maskEmailsIn's character classes and address literals (src/platform/mask-emails.ts), where mutation runs G1–G2
 * (2026-12-08) found survivors: each white space beyond ASCII ends a local part and separates a name's words, the
 * characters beside them do not; an address literal is at most 64 characters and ends at an "@", a "[" or white space.
 */
describe("maskEmailsIn: white space beyond ASCII (unit tier)", () => {
  // What ends a local part: "x" stays as it is, the mailbox after the space is masked.
  it.each([
    ["no-break space", "\u00a0"],
    ["ogham space mark", "\u1680"],
    ["en quad (the first of U+2000–U+200A)", "\u2000"],
    ["hair space (the last of them)", "\u200a"],
    ["line separator", "\u2028"],
    ["paragraph separator", "\u2029"],
    ["narrow no-break space", "\u202f"],
    ["medium mathematical space", "\u205f"],
    ["ideographic space", "\u3000"],
    ["zero-width no-break space", "\ufeff"],
  ])("%s ends a local part", (_what, space) => {
    expect(maskEmailsIn(`x${space}jane@x.example`)).toBe(`x${space}j•••@x.example`);
  });

  // Beside those: a letter of some script or half of one (masking more is safe), read into the local part.
  it.each([
    ["inverted exclamation mark (U+00A1, after the no-break space)", "\u00a1"],
    ["U+1FFF (before the en quad)", "\u1fff"],
    ["zero-width space (U+200B, after the hair space)", "\u200b"],
  ])("%s is read into the local part", (_what, character) => {
    expect(maskEmailsIn(`x${character}jane@x.example`)).toBe("x•••@x.example");
  });

  // Between a display name's words before Microsoft 365's phrase: white space within a line joins them, a line break or a
  // zero-width no-break space does not (the name is the words after it).
  it.each([
    ["a tab", "\t", "J•••"],
    ["a no-break space", "\u00a0", "J•••"],
    ["an ogham space mark", "\u1680", "J•••"],
    ["an en quad", "\u2000", "J•••"],
    ["a hair space", "\u200a", "J•••"],
    ["a narrow no-break space", "\u202f", "J•••"],
    ["a medium mathematical space", "\u205f", "J•••"],
    ["an ideographic space", "\u3000", "J•••"],
    ["a line separator", "\u2028", "Jane\u2028D•••"],
    ["a paragraph separator", "\u2029", "Jane\u2029D•••"],
  ])("a name's words apart by %s", (_what, space, shown) => {
    expect(maskEmailsIn(`Jane${space}Doe wasn't found at contoso.example.`)).toBe(`${shown} wasn't found at contoso.example.`);
  });
});

describe("maskEmailsIn: a full-width '＠' (unit tier)", () => {
  it("is an address's separator, never a character of a local part or of a name before Microsoft 365's phrase", () => {
    expect(maskEmailsIn("Jane＠Doe wasn't found at contoso.example.")).toBe("J•••＠Doe wasn't found at contoso.example.");
  });
});

describe("maskEmailsIn: an address literal (unit tier)", () => {
  // A separator inside a literal is the literal's; one after a "[" that is no literal is an address's own.
  it("is at most 64 characters from its '[' to its ']'", () => {
    expect(maskEmailsIn(`jane@[a%40${"b".repeat(59)}] x`)).toBe(`j•••@[a%40${"b".repeat(59)}] x`);
    expect(maskEmailsIn(`jane@[a%40${"b".repeat(60)}] x`)).toBe(`j•••@[a•••%40${"b".repeat(60)}] x`);
  });

  it.each([
    ["an '@'", "jane@[a@b]", "j•••@[a•••@b]"],
    ["a '['", "jane@[a[b%40x]", "j•••@[a[b•••%40x]"],
    ["white space", "jane@[a b%40x]", "j•••@[a b•••%40x]"],
  ])("ends at %s: no literal", (_what, text, shown) => {
    expect(maskEmailsIn(text)).toBe(shown);
  });

  it("reads the next address from after a literal's ']' and after a domain's end", () => {
    expect(maskEmailsIn("jane@[1.2.3.4]bob@x.example")).toBe("j•••@[1.2.3.4]b•••@x.example");
    expect(maskEmailsIn("a@b.c!jane@x.example")).toBe("a•••@b.c!•••@x.example");
  });
});

describe("maskEmailsIn: a quoted local part (unit tier)", () => {
  it("is read from its opening quote, at the text's start too", () => {
    expect(maskEmailsIn('"jane doe"@x.example')).toBe('"•••@x.example');
    expect(maskEmailsIn('"a\\"b c"@x.example')).toBe('"•••@x.example');
  });

  it("is looked for only before an '@' right after a quote: an earlier quoted word is no part of a plain address", () => {
    expect(maskEmailsIn('"Support" jane@x.example')).toBe('"Support" j•••@x.example');
  });

  it("takes a quote never opened as a local part's character", () => {
    expect(maskEmailsIn('x jane"doe@x.example')).toBe("x j•••@x.example");
  });
});
