import { describe, expect, it } from "vitest";
import { maskEmailsIn } from "../../src/platform/mask-emails.ts";

/**
 * maskEmailsIn's review findings (maskfix): Microsoft 365's mailbox named without its "@" is masked whatever it
 * holds, an "&" or "%" that writes no "@" never cuts a local part short, and a display name is masked whole back
 * to a clear boundary. Masking more is safe: these texts are shown to support staff, and the data is personal.
 */
describe("maskEmailsIn: Microsoft 365's mailbox or name before its phrase", () => {
  it.each([
    // The word right before the phrase is the mailbox, digits alone too (a staff number: SECURITY.md item 13).
    ["1234567 wasn't found at contoso.example.", "1••• wasn't found at contoso.example."],
    ["550 5.4.1 1234567 wasn't found at contoso.example.", "550 5.4.1 1••• wasn't found at contoso.example."],
    ["Error: 0815 wasn't found at contoso.example", "Error: 0••• wasn't found at contoso.example"],
    ["4711 wurde nicht in contoso.example gefunden.", "4••• wurde nicht in contoso.example gefunden."],
    // A display name whole, back to the line's start, ":", ";", "<", a status code or a sentence's end.
    ["Jane Doe (Sales) wasn't found at contoso.example.", "J••• wasn't found at contoso.example."],
    ["Jane Doe (Sales) wurde nicht in contoso.example gefunden.", "J••• wurde nicht in contoso.example gefunden."],
    ["\"Jane Doe\" wasn't found at contoso.example.", "\"••• wasn't found at contoso.example."],
    ["\"Jane Doe\" wurde nicht in contoso.example gefunden.", "\"••• wurde nicht in contoso.example gefunden."],
    ["Jane Q. Public wasn't found at contoso.example.", "J••• wasn't found at contoso.example."],
    ["John F. Kennedy wasn't found at contoso.example.", "J••• wasn't found at contoso.example."],
    ["Doe, Jane wasn't found at contoso.example.", "D••• wasn't found at contoso.example."],
    ["Müller, Jürgen wurde nicht in contoso.example gefunden.", "M••• wurde nicht in contoso.example gefunden."],
    ["Jane\u00a0Doe wasn't found at contoso.example.", "J••• wasn't found at contoso.example."],
    ["Jane  Doe wasn't found at contoso.example.", "J••• wasn't found at contoso.example."],
    ["Jane\tDoe\u202fSmith wasn't found at contoso.example.", "J••• wasn't found at contoso.example."],
    ["Recipient; Jane Doe wasn't found at contoso.example", "Recipient; J••• wasn't found at contoso.example"],
    ["x <Jane Doe wasn't found at contoso.example", "x <J••• wasn't found at contoso.example"],
    ["Delivery failed. Jane Q. Doe wasn't found at contoso.example", "Delivery failed. J••• wasn't found at contoso.example"],
    ["Couldn't deliver.\nDoe, Jane (Sales) wasn’t found at contoso.example.", "Couldn't deliver.\nD••• wasn’t found at contoso.example."],
  ])("%s", (text, shown) => {
    expect(maskEmailsIn(text)).toBe(shown);
  });
});

describe("maskEmailsIn: Microsoft 365's display name before an angle-bracketed address, masked as the bare name is", () => {
  it.each([
    ["Jane Doe <jane@contoso.example> wasn't found at contoso.example.", "J••• <j•••@contoso.example> wasn't found at contoso.example."],
    ["Jane Doe <jane@contoso.example> wurde nicht in contoso.example gefunden.", "J••• <j•••@contoso.example> wurde nicht in contoso.example gefunden."],
    ["Doe, Jane (Sales) <jane.doe@contoso.example> wasn’t found at contoso.example.", "D••• <j•••@contoso.example> wasn’t found at contoso.example."],
    ["\"Jane Doe\" <jane@contoso.example> wasn't found at contoso.example.", "\"••• <j•••@contoso.example> wasn't found at contoso.example."],
    ["Jane Doe<jane@contoso.example> wasn't found at contoso.example.", "J•••<j•••@contoso.example> wasn't found at contoso.example."],
    ["Recipient: Jane\u00a0Doe  <jane%40contoso.example> wasn't found at contoso.example", "Recipient: J•••  <j•••%40contoso.example> wasn't found at contoso.example"],
    // No name before the address: the address alone, masked as such; a status code or a sentence's end is no name.
    ["<jane@contoso.example> wasn't found at contoso.example.", "<j•••@contoso.example> wasn't found at contoso.example."],
    ["550 5.1.1 <jane@contoso.example> wasn't found at contoso.example.", "550 5.1.1 <j•••@contoso.example> wasn't found at contoso.example."],
    ["Delivery failed. <jane@contoso.example> wasn't found at contoso.example.", "Delivery failed. <j•••@contoso.example> wasn't found at contoso.example."],
    // Brackets that hold no address are a word of the name's, as before: not Microsoft 365's sentence with an address.
    ["Jane <Sales> wasn't found at contoso.example.", "Jane <Sales> wasn't found at contoso.example."],
  ])("%s", (text, shown) => {
    expect(maskEmailsIn(text)).toBe(shown);
  });
});

describe("maskEmailsIn: an \"&\" or \"%\" that writes no \"@\" is a local part's character", () => {
  it.each([
    ["<jane&john.smith@gmail.example>: no such user", "<j•••@gmail.example>: no such user"],
    ["550 5.1.1 <sales&marketing@contoso.example>: no such user", "550 5.1.1 <s•••@contoso.example>: no such user"],
    ["<jane%john@gmail.example>: no such user", "<j•••@gmail.example>: no such user"],
    ["550 5.1.1 jane.doe%contoso.example@relay.example", "550 5.1.1 j•••@relay.example"],
    ["a&b%c&d@x.example and Q&A", "a•••@x.example and Q&A"],
  ])("%s", (text, shown) => {
    expect(maskEmailsIn(text)).toBe(shown);
  });
});

describe("maskEmailsIn: an HTML numeric reference to \"@\" without its semicolon, as browsers decode it", () => {
  it.each([
    ["see jane&#64contoso.example", "see j•••&#64contoso.example"],
    ["see jane&#x40 bob", "see j•••&#x40 bob"],
    ["see jane&#00064contoso.example wasn't found at x.example", "see j•••&#00064contoso.example wasn't found at x.example"],
    // Not an "@": more digits make another character (&#640 is ʀ, &#x40c is Ќ), and &commat needs its semicolon.
    ["see jane&#640x and jane&#x40contoso and jane&commatx", "see jane&#640x and jane&#x40contoso and jane&commatx"],
  ])("%s", (text, shown) => {
    expect(maskEmailsIn(text)).toBe(shown);
  });
});
