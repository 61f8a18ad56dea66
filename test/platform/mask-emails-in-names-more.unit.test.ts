import { describe, expect, it } from "vitest";
import { maskEmailsIn } from "../../src/platform/mask-emails.ts";

/**
 * Review finding (revfix): display names before an <address> in Microsoft 365's phrase that stayed whole: a
 * suffix ("Jr.", "III."), a number after the name, the first of several recipients, a quoted local part with a
 * space. Masking more is safe; a status code alone before the address is still no name.
 */
describe("maskEmailsIn: more display names before an angle-bracketed address", () => {
  it.each([
    ["Jane Doe Jr. <jane@contoso.example> wasn't found at contoso.example.", "J••• <j•••@contoso.example> wasn't found at contoso.example."],
    ["Jane Doe III. <jane@contoso.example> wasn't found at contoso.example.", "J••• <j•••@contoso.example> wasn't found at contoso.example."],
    ["Jane Doe 3 <jane@contoso.example> wasn't found at contoso.example.", "J••• <j•••@contoso.example> wasn't found at contoso.example."],
    ["Jane Doe 2 <jane@contoso.example> wurde nicht in contoso.example gefunden.", "J••• <j•••@contoso.example> wurde nicht in contoso.example gefunden."],
    ["Jane Doe <a@contoso.example> <b@x.example> wasn't found at contoso.example.", "J••• <a•••@contoso.example> <b•••@x.example> wasn't found at contoso.example."],
    ["Jane Doe <\"jane doe\"@contoso.example> wasn't found at contoso.example.", "J••• <\"•••@contoso.example> wasn't found at contoso.example."],
    ["Jane Doe <\"jane doe\"@contoso.example> <b@x.example> wasn't found at contoso.example.", "J••• <\"•••@contoso.example> <b•••@x.example> wasn't found at contoso.example."],
    // Still no name: a status code, a sentence's end, an unclosed quote.
    ["550 5.1.1 <jane@contoso.example> <b@x.example> wasn't found at contoso.example.", "550 5.1.1 <j•••@contoso.example> <b•••@x.example> wasn't found at contoso.example."],
    ["550 <jane@contoso.example> wasn't found at contoso.example.", "550 <j•••@contoso.example> wasn't found at contoso.example."],
    ["Delivery failed. <jane@contoso.example> wasn't found at contoso.example.", "Delivery failed. <j•••@contoso.example> wasn't found at contoso.example."],
  ])("%s", (text, shown) => {
    expect(maskEmailsIn(text)).toBe(shown);
  });

  it("never shows the name's words in the reviewer's forms", () => {
    for (const text of [
      "Jane Doe Jr. <jane@contoso.example> wasn't found at contoso.example.",
      "Jane Doe 3 <jane@contoso.example> wasn't found at contoso.example.",
      "Jane Doe <a@contoso.example> <b@x.example> wasn't found at contoso.example.",
      "Jane Doe <\"jane doe\"@contoso.example> wasn't found at contoso.example.",
    ]) expect(maskEmailsIn(text), text).not.toMatch(/Doe|doe/);
  });
});
