import { describe, expect, it } from "vitest";
import { isOneAddress, parseMailbox } from "../../src/mail/mailbox.ts";

describe("isOneAddress: exactly one local@domain, as the envelope and the To header take it", () => {
  it.each(["staff@dealer.example", "first.last+tag@dealer.example", "ünïcode@dealer.example", "a@localhost"])("takes %s", (address) => {
    expect(isOneAddress(address)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["no @", "staff.dealer.example"],
    ["a second @", "a@b@dealer.example"],
    ["nothing before the @", "@dealer.example"],
    ["nothing after the @", "staff@"],
    ["a list", "a@dealer.example,b@dealer.example"],
    ["a group", "team:a@dealer.example;"],
    ["a display name", "Staff <a@dealer.example>"],
    ["a space", "a @dealer.example"],
    ["CR LF and a header", "a@dealer.example\r\nBcc: b@evil.example"],
    ["U+2028", "a@dealer.example\u2028b@evil.example"],
    ["U+0085", "a@dealer.example\u0085"],
    ["a control character", "a\u0000@dealer.example"],
    ["a comment", "a(x)@dealer.example"],
    ["a quote", '"a"@dealer.example'],
    ["brackets", "a@[127.0.0.1]"],
    ["a backslash", "a\\b@dealer.example"],
  ])("refuses %s", (_, address) => {
    expect(isOneAddress(address)).toBe(false);
  });
});

describe("parseMailbox: FAMOS_MAIL_FROM as one mailbox, for the From header and the envelope sender", () => {
  it.each([
    ["no-reply@dealer.example", null, "no-reply@dealer.example"],
    ["  no-reply@dealer.example  ", null, "no-reply@dealer.example"],
    ["FAMOS <no-reply@dealer.example>", "FAMOS", "no-reply@dealer.example"],
    ["FAMOS 2FA <no-reply@dealer.example>", "FAMOS 2FA", "no-reply@dealer.example"],
    ["FAMOS<no-reply@dealer.example>", "FAMOS", "no-reply@dealer.example"],
    ["<no-reply@dealer.example>", null, "no-reply@dealer.example"],
    ["Concessionnaire Évry <no-reply@dealer.example>", "Concessionnaire Évry", "no-reply@dealer.example"],
    ["J. Smith & Sons' IT <it@dealer.example>", "J. Smith & Sons' IT", "it@dealer.example"],
    ['"FAMOS, Dealer IT" <no-reply@dealer.example>', '"FAMOS, Dealer IT"', "no-reply@dealer.example"],
    ['"A \\"quoted\\" name" <no-reply@dealer.example>', '"A \\"quoted\\" name"', "no-reply@dealer.example"],
  ])("takes %j", (value, display, address) => {
    expect(parseMailbox(value)).toEqual({ display, address });
  });

  it.each([
    ["empty", ""],
    ["two addresses in angle brackets", "FAMOS <a@dealer.example> <b@evil.example>"],
    ["a second address in the name", "a@dealer.example <b@evil.example>"],
    ["a list", "a@dealer.example, b@evil.example"],
    ["a list with names", "FAMOS <a@dealer.example>, Evil <b@evil.example>"],
    ["an unquoted comma in the name", "FAMOS, Dealer IT <no-reply@dealer.example>"],
    ["a group", "Team: a@dealer.example;"],
    ["an unclosed bracket", "FAMOS <no-reply@dealer.example"],
    ["text after the bracket", "FAMOS <no-reply@dealer.example> x"],
    ["a bracket in the name", "FA>MOS <no-reply@dealer.example>"],
    ["an empty address", "FAMOS <>"],
    ["not an address in the brackets", "FAMOS <no-reply>"],
    ["a comment", "FAMOS (IT) <no-reply@dealer.example>"],
    ["an unclosed quote", '"FAMOS <no-reply@dealer.example>'],
    ["an address in a quoted name", '"Evil <b@evil.example>" <no-reply@dealer.example>'],
    ["words before a quoted name", 'Evil "FAMOS" <no-reply@dealer.example>'],
    ["words after a quoted name", '"FAMOS" Evil <no-reply@dealer.example>'],
    ["a stray quote in the name", 'FA"MOS <no-reply@dealer.example>'],
    ["CR LF", "FAMOS <no-reply@dealer.example>\r\nBcc: b@evil.example"],
    ["a line break in the name", "FA\nMOS <no-reply@dealer.example>"],
    ["U+2028 in the name", "FA\u2028MOS <no-reply@dealer.example>"],
    ["U+0085 in a quoted name", '"FA\u0085MOS" <no-reply@dealer.example>'],
    ["a control character", "FAMOS\u0007 <no-reply@dealer.example>"],
  ])("refuses %s", (_, value) => {
    expect(parseMailbox(value)).toBeNull();
  });
});
