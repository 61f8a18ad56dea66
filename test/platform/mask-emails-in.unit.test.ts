import { afterEach, describe, expect, it, vi } from "vitest";
import { maskMailbox } from "../../src/platform/format.ts";
import { maskEmailsIn } from "../../src/platform/mask-emails.ts";

/**
 * maskEmailsIn (src/platform/mask-emails.ts): every mailbox a relay's words name is masked as support reads them
 * (storedWordsShown, detailText, forwardBounceSet). Shapes taken from real relays' texts: Postfix, Exim,
 * Sendmail, Exchange and Microsoft 365 NDRs, Gmail's DSNs. A Message-ID (<id@host>) is masked like an
 * address: it cannot be told from one, and masking more is safe.
 */
describe("maskEmailsIn", () => {
  it.each([
    // Postfix
    ["host mx.dealer.example[192.0.2.7] said: 550 5.1.1 <jane.private@gmail.example>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)", "j•••@gmail.example", "jane.private"],
    ["to=<jane.private@gmail.example>, relay=mx.gmail.example[192.0.2.8]:25, dsn=5.1.1, status=bounced", "j•••@gmail.example", "jane.private"],
    ["550 5.1.1 <\"jane doe\"@dealer.example>: Recipient address rejected: User unknown", "\"•••@dealer.example", "jane doe"],
    ["said: 550 5.1.1 \"jane.q.\\\"doe\\\"\"@dealer.example... User unknown", "\"•••@dealer.example", "jane.q"],
    ["550 5.1.1 <jane@[192.0.2.1]>: Recipient address rejected", "j•••@[192.0.2.1]", "jane"],
    ["550 5.1.1 jane@[IPv6:2001:db8::1] unknown", "j•••@[IPv6:2001:db8::1]", "jane"],
    ["orig_to=<sales@dealer.example>/jane.private@gmail.example", "<s•••@dealer.example>/•••@gmail.example", "jane.private"],
    ["a@b/jane.private@gmail.example", "/•••@gmail.example", "jane.private"],
    ["550 5.1.1 Jane Private <jane.private@gmail.example>... User unknown", "j•••@gmail.example", "jane.private@"],
    // Exim and Sendmail
    ["jane.private@gmail.example\n    SMTP error from remote mail server after RCPT TO:<jane.private@gmail.example>:\n    550 No such user", "j•••@gmail.example", "jane.private"],
    ["----- The following addresses had permanent fatal errors -----\n<jane.private@gmail.example>\n    (reason: 550 5.1.1 User unknown)", "j•••@gmail.example", "jane.private"],
    // Exchange and Microsoft 365
    ["Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient jane.private@contoso.example not found by SMTP address lookup'", "j•••@contoso.example", "jane.private"],
    ["smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup [jane.private@contoso.example]", "j•••@contoso.example", "jane.private"],
    ["Your message to jane.private@contoso.example couldn't be delivered.", "j•••@contoso.example", "jane.private"],
    ["IMCEAEX-_o=ExchangeLabs_ou=Exchange+20Administrative+20Group_cn=Recipients_cn=3f2a-jane.private@contoso.prod.outlook.example", "I•••@contoso.prod.outlook.example", "jane.private"],
    ["rfc822;jane.private@contoso.example", "j•••@contoso.example", "jane.private"],
    ["utf-8; j\\x{E9}r\\x{F4}me@contoso.example", "j•••@contoso.example", "r\\x{F4}me"],
    ["550 5.4.1 Recipient address rejected: Access denied. [AM0PR01MB1234.eurprd01.prod.exchangelabs.example] (jérôme.privé@exemple.example)", "j•••@exemple.example", "rôme"],
    // Microsoft 365's NDR names the mailbox without its "@", apostrophe straight or typographic
    ["Your message to jane.private@contoso.example couldn't be delivered.\njane.private wasn't found at contoso.example.\nUser  Office 365  contoso.example", "j••• wasn't found at contoso.example", "jane.private"],
    ["jane.private wasn’t found at contoso.example.", "j••• wasn’t found at contoso.example", "jane.private"],
    // Percent-encoded in a URL a relay's words quote: once (%40), or twice (%2540: a URL inside a URL)
    ["550 5.7.1 Message blocked, release it at https://protect.example/release?rcpt=jane.private%40contoso.example&id=7f3a", "•••%40contoso.example&id=7f3a", "jane.private"],
    ["see https://r.example/?u=https%3A%2F%2Fportal.example%2F%3Frcpt%3Djane.private%2540contoso.example", "•••%2540contoso.example", "jane.private"],
    ["mailto:jane.private%40contoso.example", "j•••%40contoso.example", "jane.private"],
    // Gmail
    ["550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos (jane.private@gmail.example) 550 5.1.1 https://support.google.example/mail/?p=NoSuchUser a1si12345wrb.12 - gsmtp", "j•••@gmail.example", "jane.private"],
    ["452-4.2.2 The recipient's inbox is out of storage space.;jane.private@gmail.example", "j•••@gmail.example", "jane.private"],
    // Contacts and quotes
    ["mailbox disabled, please contact it-desk.leeds@dealer.example or 'jane.private@gmail.example'", "'•••@gmail.example", "jane.private"],
    ["&lt;jane.private@gmail.example&gt; unknown", "j•••@gmail.example", "jane.private"],
    ["o'brien@dealer.example", "o•••@dealer.example", "brien"],
    // Beyond ASCII: a list in Japanese, a French quote
    ["宛先 jane.private@gmail.example、bob.private@gmail.example は存在しません", "、•••@gmail.example", "bob.private"],
    ["adresse «jane.private@gmail.example»bob.private@gmail.example inconnue", "«•••@gmail.example»•••@gmail.example", "private"],
    // An address glued to the previous one's domain by domain characters: a letter (Japanese と "and"), a "-" or "."
    ["転送先 bob@x.exampleとjane.private@y.example は存在しません", "b•••@y.example は", "jane.private"],
    ["<a@relay.example-jane.private@gmail.example>", "<a•••@gmail.example>", "jane.private"],
    ["a@relay.example.jane.private@gmail.example, b@c.example", "a•••@gmail.example, b•••@c.example", "jane.private"],
    // Microsoft 365's NDR in German names the mailbox the same way: "info wurde nicht in dorfladen-oberornau.de gefunden,
    // oder das Postfach ist nicht verfügbar." (a German tenant's NDR quoted in a public repository's notes)
    ["Ihre Nachricht an jane.private@contoso.example konnte nicht zugestellt werden.\njane.private wurde nicht in contoso.example gefunden, oder das Postfach ist nicht verfügbar.", "j••• wurde nicht in contoso.example gefunden", "jane.private"],
    // The "@" percent-encoded three times (a URL inside a URL inside a URL), full-width (U+FF20), or as HTML writes it
    ["see https://r.example/?u=https%253A%252F%252Fportal.example%252F%253Frcpt%253Djane.private%252540contoso.example", "•••%252540contoso.example", "jane.private"],
    ["宛先 jane.private＠contoso.example は存在しません", "j•••＠contoso.example は", "jane.private"],
    ["<p>550 5.1.1 &lt;jane.private&#64;contoso.example&gt; unknown</p>", "j•••&#64;contoso.example&gt;", "jane.private"],
    ["<p>jane.private&#x40;contoso.example</p>", "j•••&#x40;contoso.example<", "jane.private"],
    ["<p>jane.private&#X40;contoso.example and jane.doe&#064;contoso.example and jane.roe&commat;contoso.example</p>", "j•••&#X40;contoso.example and j•••&#064;contoso.example and j•••&commat;contoso.example<", "jane."],
    // Message-IDs: masked as addresses are
    ["message <20261207.abc123@mail.famos.example> refused", "2•••@mail.famos.example", "abc123"],
  ])("%s", (text, shown, hidden) => {
    const masked = maskEmailsIn(text);
    expect(masked).toContain(shown);
    expect(masked).not.toContain(hidden);
  });

  it("leaves text with no address as it is, and only masks what is left of an address", () => {
    expect(maskEmailsIn("550 5.1.1 User unknown")).toBe("550 5.1.1 User unknown");
    expect(maskEmailsIn("")).toBe("");
    expect(maskEmailsIn("@ noon, @dealer.example")).toBe("@ noon, @dealer.example");
    expect(maskEmailsIn("<jane@dealer.example>: no")).toBe("<j•••@dealer.example>: no");
    expect(maskEmailsIn("a@b, c@d")).toBe("a•••@b, c•••@d");
    expect(maskEmailsIn("100% sure, 40% off, %40 alone, 25%25 and %2540")).toBe("100% sure, 40% off, %40 alone, 25%25 and %2540");
    expect(maskEmailsIn("a%40b, c%2540d")).toBe("a•••%40b, c•••%2540d");
    expect(maskEmailsIn("The recipient was found at last; wasn't found at x; (wasn't found at y)")).toBe("The recipient was found at last; wasn't found at x; (wasn't found at y)");
    expect(maskEmailsIn("jane@x.example wasn't found at x.example")).toBe("j•••@x.example wasn't found at x.example");
    expect(maskEmailsIn("jane%40x.example wasn't found at x.example")).toBe("j•••%40x.example wasn't found at x.example");
  });

  it("masks a display name Microsoft 365 names instead of the mailbox whole, as far back as it runs (a name is personal data too)", () => {
    // Every word of the name, back to the line's start, punctuation, a word with no letter (a status code) or a sentence's end: its first letter shown, as an address's.
    expect(maskEmailsIn("Jane Doe wasn't found at contoso.example.")).toBe("J••• wasn't found at contoso.example.");
    expect(maskEmailsIn("Couldn't deliver.\nJane van der Berg wasn’t found at contoso.example.")).toBe("Couldn't deliver.\nJ••• wasn’t found at contoso.example.");
    expect(maskEmailsIn("550 5.1.1 Jane Doe wasn't found at contoso.example")).toBe("550 5.1.1 J••• wasn't found at contoso.example");
    expect(maskEmailsIn("Delivery failed. Jane Doe wasn't found at contoso.example")).toBe("Delivery failed. J••• wasn't found at contoso.example");
    expect(maskEmailsIn("Recipient: Jane Doe wurde nicht in contoso.example gefunden")).toBe("Recipient: J••• wurde nicht in contoso.example gefunden");
    // An address before the name is the address's to mask; one right before the phrase, with its "@" written any way, too.
    expect(maskEmailsIn("jane@x.example Jane Doe wasn't found at x.example")).toBe("j•••@x.example J••• wasn't found at x.example");
    expect(maskEmailsIn("jane&#64;x.example wasn't found at x.example")).toBe("j•••&#64;x.example wasn't found at x.example");
    expect(maskEmailsIn("jane＠x.example wurde nicht in x.example gefunden")).toBe("j•••＠x.example wurde nicht in x.example gefunden");
    // German words that are not Microsoft 365's sentence (no domain, no "gefunden" after it) are left as they are.
    expect(maskEmailsIn("Die Seite wurde nicht in der Datenbank gefunden; wurde nicht in x.example gefunden")).toBe("Die Seite wurde nicht in der Datenbank gefunden; wurde nicht in x.example gefunden");
  });

  it("leaves an ampersand, a full-width sign or a percent sign that writes no \"@\" as it is", () => {
    expect(maskEmailsIn("Q&A &amp; &#65; &#x41; &#640 &#x40c &commat %2541 %25 40 ＠ noon")).toBe("Q&A &amp; &#65; &#x41; &#640 &#x40c &commat %2541 %25 40 ＠ noon");
  });

  it("reads a domain from the first character after its separator, '@', %40 or %2540 alike", () => {
    // Before, the first character after the separator was skipped: a space there let the domain run on into
    // the next address, which was swallowed whole, and an address literal's "[" after %40 was not seen.
    expect(maskEmailsIn("x@ jane@contoso.example")).toBe("x•••@ j•••@contoso.example");
    expect(maskEmailsIn("jane%40 bob@x.example")).toBe("j•••%40 b•••@x.example");
    expect(maskEmailsIn("jane%2540 bob@x.example")).toBe("j•••%2540 b•••@x.example");
    expect(maskEmailsIn("jane%40[192.0.2.1] x")).toBe("j•••%40[192.0.2.1] x");
    // A digit-only local part is a local part, with "@" as with %40 (a staff number as a mailbox): masked.
    expect(maskEmailsIn("discount 100%40 today, 100@x")).toBe("discount 1•••%40 today, 1•••@x");
  });

  it("shows a first character beyond the Basic Multilingual Plane whole, never half of it", () => {
    expect(maskEmailsIn("𝒥ane@dealer.example")).toBe("𝒥•••@dealer.example");
  });

  describe("is linear: each character examined a bounded number of times (counted, 100 kB adversarial texts)", () => {
    afterEach(() => vi.restoreAllMocks());
    const n = 100_000;
    it.each([
      ["a run of local-part characters, then @", "a".repeat(n) + "@"],
      ["@ after each character", "a@".repeat(n / 2)],
      ["@ alone", "@".repeat(n)],
      ["quotes before each @", "\"@".repeat(n / 2)],
      ["a quoted run never opened", "a".repeat(n) + "\"@x"],
      ["escaped quotes", "\\\"".repeat(n / 2) + "\"@x"],
      ["an escaped quote before each @", "\\\"@".repeat(n / 3)],
      ["address literals never closed", "a@[".repeat(n / 3)],
      ["dots and @", ".@.".repeat(n / 3)],
      ["addresses glued domain to local part", "a.b-c@d".repeat(n / 7)],
      ["a long domain then a long local part, repeated", ("x".repeat(1000) + "@" + "y".repeat(1000) + " ").repeat(50)],
      ["% alone", "%".repeat(n)],
      ["%40 after each character", "a%40".repeat(n / 4)],
      ["%2540 alone", "%2540".repeat(n / 5)],
      ["%254 never finished", "%254".repeat(n / 4)],
      ["@ and %40 alternating, glued", "a@b%40".repeat(n / 6)],
      ["Microsoft 365's phrase after each word", "a wasn't found at ".repeat(n / 18)],
      ["Microsoft 365's phrase with no word before it", " wasn't found at ".repeat(n / 17)],
      ["its phrase's tail alone", "t found at ".repeat(n / 11)],
      ["a run of local-part characters, then the phrase", "a".repeat(n) + " wasn't found at x"],
      ["a run of %40s, then the phrase", "a%40".repeat(n / 4) + " wasn't found at x"],
      ["%252540 alone", "%252540".repeat(n / 7)],
      ["%25 repeated, never finished", "%" + "25".repeat(n / 2)],
      ["full-width @ alone", "＠".repeat(n)],
      ["full-width @ after each character", "a＠".repeat(n / 2)],
      ["&#64; alone", "&#64;".repeat(n / 5)],
      ["&#x40; glued to local parts", "a&#x40;".repeat(n / 7)],
      ["& alone", "&".repeat(n)],
      ["&# never finished", "&#".repeat(n / 2)],
      ["an entity's leading zeros", "a&#" + "0".repeat(n) + "64;x"],
      ["German phrase after each word", "a wurde nicht in x.y gefunden ".repeat(n / 30)],
      ["German phrase, its domain never ending", "a wurde nicht in " + "x".repeat(n)],
      ["a name of many words, then the phrase", "A ".repeat(n / 2) + "wasn't found at x"],
      ["an address, then words and the phrase, repeated", ("a@b " + "A ".repeat(50) + "wasn't found at ").repeat(n / 120)],
      ["the phrase after each word, an address first", "a@b" + " a wasn't found at".repeat(n / 18)],
      // "&" and "%" that write no "@" (they move no floor), entities without their semicolon, names of many kinds of words
      ["& after each character, then @", "a&".repeat(n / 2) + "@x"],
      ["% after each character, then @", "a%".repeat(n / 2) + "@x"],
      ["& and % before each @", "a&b%c@".repeat(n / 6)],
      ["&#64 without its semicolon, glued", "a&#64".repeat(n / 5)],
      ["&#x40 never an @ (a hex digit after it)", "a&#x40c".repeat(n / 7)],
      ["&s and %s, then the phrase", "a&b%".repeat(n / 4) + " wasn't found at x"],
      ["a name of quoted, bracketed, comma'd words, then the phrase", "\"(A), ".repeat(n / 6) + "wasn't found at x"],
      ["initials and no-break spaces, then the phrase", "Q.\u00a0".repeat(n / 3) + "wasn't found at x"],
      ["digit words before each phrase", "1 2 3 wasn't found at ".repeat(n / 22)],
      // A display name before an address in angle brackets (nameBefore): the bracket read back once, to its "<" or the floor.
      ["a name and a bracketed address before each phrase", "Jane Doe <j@x> wasn't found at ".repeat(n / 31)],
      ["a bracket of @s, then the phrase", "A <" + "@".repeat(n) + "> wasn't found at x"],
      ["a bracket of %25s never an @, then the phrase", "A <%" + "25".repeat(n / 2) + "> wasn't found at x"],
      ["a bracket never opened, then the phrase", "A " + "a@".repeat(n / 2) + "> wasn't found at x"],
      ["brackets closed before each phrase", "<a@b>".repeat(n / 22) + "> wasn't found at ".repeat(n / 22)],
      // revfix: several recipients' brackets, a quoted local part with spaces, numbers and suffixes before the bracket.
      ["many bracketed addresses, then the phrase", "A " + "<a@b> ".repeat(n / 6) + "wasn't found at x"],
      ["two bracketed addresses before each phrase", "<a@b> <c@d> wasn't found at ".repeat(n / 28)],
      ["a quoted local part of spaces in a bracket, then the phrase", "A <\"" + " ".repeat(n) + "\"@b> wasn't found at x"],
      ["a quote never opened in a bracket, then the phrase", "A " + " ".repeat(n) + "\"@b> wasn't found at x"],
      ["quotes and spaces in a bracket, then the phrase", "A <" + "\" ".repeat(n / 2) + "\"@b> wasn't found at x"],
      ["quoted bracketed addresses before each phrase", "A <\"a b\"@c> <\"d\"@e> wasn't found at ".repeat(n / 40)],
      ["numbers before a bracketed address, then the phrase", "1 ".repeat(n / 2) + "<a@b> wasn't found at x"],
      ["suffixes before a bracketed address, then the phrase", "Jr. ".repeat(n / 4) + "<a@b> wasn't found at x"],
      ["a number, a name and a bracket before each phrase", "A 3 <a@b> wasn't found at ".repeat(n / 27)],
    ])("%s", (_what, text) => {
      const charCodeAt = vi.spyOn(String.prototype, "charCodeAt");
      const indexOf = vi.spyOn(String.prototype, "indexOf");
      maskEmailsIn(text);
      expect(charCodeAt.mock.calls.length).toBeLessThanOrEqual(4 * text.length + 10);
      // One search for each first character of an "@" as written ("@", "%", "＠", "&") and each of Microsoft 365's
      // phrases (English, German), then one per occurrence of each.
      expect(indexOf.mock.calls.length).toBeLessThanOrEqual(text.length + 8);
    });
  });
});

/** maskMailbox: a forward's mailbox (forwardedTo) as support reads it, its address alone: a display name or comment is a third person's name. */
describe("maskMailbox", () => {
  it.each([
    ["jane.private@gmail.example", "j•••@gmail.example"],
    ["Jane Private <jane.private@gmail.example>", "j•••@gmail.example"],
    ["\"Private, Jane\" <jane.private@gmail.example>", "j•••@gmail.example"],
    ["jane.private@gmail.example (Jane Private)", "j•••@gmail.example"],
    ["Jane Private <jane.private@gmail.exa", "J•••@gmail.exa"],
    ["\"jane private\"@gmail.example", "\"•••@gmail.example"],
    ["Jane Private", "•••"],
    // A comment holding an "@" is not the address; nested, or never closed, it is dropped too.
    ["jane@x.example (Jane@Doe Private)", "j•••@x.example"],
    ["(Jane@Doe) jane@x.example", "j•••@x.example"],
    ["jane@x.example (Jane (née@Doe) Private)", "j•••@x.example"],
    ["jane@x.example (Jane@Doe", "j•••@x.example"],
    ["Jane Doe (J@D) <jane@x.example>", "j•••@x.example"],
  ])("%s", (named, shown) => {
    expect(maskMailbox(named)).toBe(shown);
  });
});
