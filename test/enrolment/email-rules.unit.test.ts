import { describe, expect, it } from "vitest";
import { DEFAULT_SHARED_MAILBOX_NAMES, type Config } from "../../src/config/config.ts";
import { checkEmailEntry, domainAllowed, isSharedMailbox } from "../../src/enrolment/email-rules.ts";

/**
 * SPEC item 2, the rules an address must meet at enrolment and at an email change (and in `famos user
 * add` and the import): each rule at its boundary, each refusal with its problem and its words, what is
 * normalised and what is kept as typed. test/enrolment/email-rules.test.ts reads the policy from the
 * environment; here it is given.
 */

type Policy = Config["enrolment"];
const ANY: Policy = { allowedDomains: [], sharedMailboxPolicy: "warn", sharedMailboxNames: DEFAULT_SHARED_MAILBOX_NAMES };

const check = (email: string, confirm = email, policy: Partial<Policy> = {}, ownMailbox = false) =>
  checkEmailEntry({ email, confirmEmail: confirm, ownMailbox }, { ...ANY, ...policy });

const MISSING = { ok: false, problem: "missing", message: "Enter the email address that will receive your codes." };
const INVALID = { ok: false, problem: "invalid", message: "Enter a valid email address, such as j.smith@dealer.example." };
const TOO_LONG = { ok: false, problem: "too-long", message: "An email address can be at most 254 characters long." };
const LOCAL_TOO_LONG = { ok: false, problem: "too-long", message: "The part before the @ can be at most 64 characters long." };
const MISMATCH = { ok: false, problem: "mismatch", message: "The two email addresses do not match. Type the same address in both fields." };
const ROUTED = { ok: false, problem: "domain-not-allowed", message: "Use your work email address: the part before the @ may not contain % or ! here." };
const notAllowed = (domain: string) => ({ ok: false, problem: "domain-not-allowed", message: `Use your work email address: addresses at ${domain} are not accepted here.` });
const SHARED_REFUSED = { ok: false, problem: "shared-mailbox", message: "This looks like a shared group mailbox. Use your individually assigned work email address." };
const SHARED_WARNED = {
  ok: false,
  problem: "shared-mailbox",
  message: 'This looks like a shared group mailbox, which other people can read. Use your individually assigned work email address, or tick "This is my own mailbox" if it is yours alone.',
};
const accepted = (email: string, sharedMailbox = false) => ({ ok: true, email, sharedMailbox });

/** A domain of exactly `length` characters: labels of 63 joined by dots, then what is left. */
function domainOf(length: number): string {
  const labels: string[] = [];
  let left = length;
  while (left > 64) {
    labels.push("d".repeat(63));
    left -= 64;
  }
  labels.push("e".repeat(left));
  return labels.join(".");
}

describe("checkEmailEntry: an address is required", () => {
  it("refuses an empty entry, or one of blanks only, as missing", () => {
    expect(check("", "")).toEqual(MISSING);
    expect(check(" \t ", "")).toEqual(MISSING);
    expect(check("", "j.smith@dealer.example")).toEqual(MISSING);
  });
});

describe("checkEmailEntry: the WHATWG input type=email syntax", () => {
  it("accepts every character the rule allows before the @, and one-letter and hyphenated labels anywhere after it", () => {
    for (const email of [
      "j.smith@dealer.example",
      "a@b",
      "1@2.example",
      "a@x.example",
      "x@a-b.c-d.example",
      "a@a1.b2.c3",
      "a@b.c",
      "j@dealer.e.example",
      "o'brien@dealer.example",
      "a+tag@dealer.example",
      "!#$&'*+/=?^_`{|}~-.@dealer.example",
      ".leading.dot.@dealer.example",
      "UPPER@Dealer.EXAMPLE",
      "x@xn--bcher-kva.example",
    ]) {
      expect(check(email), email).toEqual(accepted(email));
    }
  });

  it("accepts a label of 63 characters and refuses one of 64, first or later in the domain", () => {
    expect(check(`a@${"x".repeat(63)}.example`)).toMatchObject({ ok: true });
    expect(check(`a@${"x".repeat(64)}.example`)).toEqual(INVALID);
    expect(check(`a@dealer.${"x".repeat(63)}`)).toMatchObject({ ok: true });
    expect(check(`a@dealer.${"x".repeat(64)}`)).toEqual(INVALID);
  });

  it("refuses what the rule refuses, anywhere in the address (the pattern is anchored at both ends)", () => {
    for (const email of [
      "plainaddress",
      "@dealer.example",
      "a@",
      "a@@dealer.example",
      "a@b@dealer.example",
      "j smith@dealer.example",
      "(x) a@dealer.example",
      "a@dealer.example (x)",
      "a@dealer.example.",
      "a@.dealer.example",
      "a@dealer..example",
      "a@-dealer.example",
      "a@dealer-.example",
      "a@dealer.-example",
      "a@dealer.example-",
      "a@dealer_x.example",
      "a@[192.0.2.1]",
      '"quoted"@dealer.example',
      "a,b@dealer.example",
      "a;b@dealer.example",
      "a<b>@dealer.example",
      "a:b@dealer.example",
      "a\\b@dealer.example",
      "Jane <j@dealer.example>",
    ]) {
      expect(check(email), JSON.stringify(email)).toEqual(INVALID);
    }
  });

  it("refuses internationalised addresses: a non-ASCII letter before or after the @ (the punycode form of the domain is fine)", () => {
    for (const email of ["jörg@dealer.example", "j@bücher.example", "ｊ@dealer.example", "j@dealer.ｅxample", "δοκιμή@παράδειγμα.δοκιμή"]) {
      expect(check(email), email).toEqual(INVALID);
    }
  });

  it("refuses a line break, NUL, tab or Unicode separator inside the address: nothing reaches a mail header from here", () => {
    for (const gap of ["\r\n", "\r", "\n", "\u0000", "\t", "\u000b", "\u000c", "\u0085", "\u2028", "\u2029", "\u00a0", "\ufeff"]) {
      for (const email of [`a${gap}@dealer.example`, `a@dealer${gap}.example`, `a@dealer.example${gap}Bcc: victim@evil.example`]) {
        expect(check(email), JSON.stringify(email)).toEqual(INVALID);
      }
    }
  });
});

describe("checkEmailEntry: length (RFC 5321 §4.5.3.1)", () => {
  it("accepts 254 characters in all, refuses 255 as too long", () => {
    const at254 = `j@${domainOf(252)}`;
    expect(at254).toHaveLength(254);
    expect(check(at254)).toEqual(accepted(at254));
    const at255 = `j@${domainOf(253)}`;
    expect(at255).toHaveLength(255);
    expect(check(at255)).toEqual(TOO_LONG);
  });

  it("counts the length before the syntax: a long entry that is not an address is still too long", () => {
    expect(check("x".repeat(255))).toEqual(TOO_LONG);
    expect(check("x".repeat(254))).toEqual(INVALID);
    expect(check(`${"x".repeat(10_000)}@dealer.example`)).toEqual(TOO_LONG);
  });

  it("counts after trimming: spaces around an address of 254 do not make it too long", () => {
    const at254 = `j@${domainOf(252)}`;
    expect(check(`  ${at254}  `)).toEqual(accepted(at254));
  });

  it("accepts 64 characters before the @, refuses 65 with its own message", () => {
    const local64 = "l".repeat(64);
    expect(check(`${local64}@dealer.example`)).toEqual(accepted(`${local64}@dealer.example`));
    expect(check(`${"l".repeat(65)}@dealer.example`)).toEqual(LOCAL_TOO_LONG);
    // 64 + @ + 189: both limits at once.
    const both = `${local64}@${domainOf(189)}`;
    expect(both).toHaveLength(254);
    expect(check(both)).toEqual(accepted(both));
  });

  it("measures the part before the @, not the whole address: a short local part at a long domain is fine", () => {
    const email = `j@${domainOf(120)}`;
    expect(check(email)).toEqual(accepted(email));
  });
});

describe("checkEmailEntry: the two fields must match", () => {
  it("refuses two different addresses, with its message", () => {
    expect(check("j.smith@dealer.example", "j.smyth@dealer.example")).toEqual(MISMATCH);
    expect(check("j.smith@dealer.example", "")).toEqual(MISMATCH);
    expect(check("j.smith@dealer.example", "j.smith@dealer.example.")).toEqual(MISMATCH);
  });

  it("compares without regard to case or surrounding spaces, in either field", () => {
    expect(check("J.Smith@Dealer.Example", "j.smith@dealer.example")).toEqual(accepted("J.Smith@Dealer.Example"));
    expect(check("j.smith@dealer.example", "J.SMITH@DEALER.EXAMPLE")).toEqual(accepted("j.smith@dealer.example"));
    expect(check("j.smith@dealer.example", "  j.smith@dealer.example\t")).toEqual(accepted("j.smith@dealer.example"));
    expect(check(" j.smith@dealer.example ", "j.smith@dealer.example")).toEqual(accepted("j.smith@dealer.example"));
  });

  it("checks the address itself before the match: an invalid or too long address is reported as such", () => {
    expect(check("not an address", "something else")).toEqual(INVALID);
    expect(check(`${"l".repeat(65)}@dealer.example`, "other@dealer.example")).toEqual(LOCAL_TOO_LONG);
  });
});

describe("checkEmailEntry: what is normalised and what is kept", () => {
  it("trims surrounding white space, line breaks included, and keeps the rest exactly as typed (case, dots, +tag)", () => {
    expect(check("  J.Smith+Codes@Dealer.Example \r\n", "j.smith+codes@dealer.example")).toEqual(accepted("J.Smith+Codes@Dealer.Example"));
    expect(check("\u2028\ufeffj@dealer.example\u00a0\u2029")).toEqual(accepted("j@dealer.example"));
  });

  it("does not fold look-alikes or drop dots: j.smith and jsmith are different addresses", () => {
    expect(check("j.smith@dealer.example", "jsmith@dealer.example")).toEqual(MISMATCH);
    expect(check("j.smith@dealer.example", "j.smith+x@dealer.example")).toEqual(MISMATCH);
  });
});

describe("checkEmailEntry: allowed domains (FAMOS_ALLOWED_EMAIL_DOMAINS)", () => {
  it("accepts any domain when none is configured", () => {
    expect(check("j@anywhere.example")).toEqual(accepted("j@anywhere.example"));
  });

  it("accepts the configured domain in any case and refuses another, naming it in lower case", () => {
    const policy = { allowedDomains: ["dealer.example"] };
    expect(check("j@dealer.example", undefined, policy)).toEqual(accepted("j@dealer.example"));
    expect(check("J@DEALER.Example", undefined, policy)).toEqual(accepted("J@DEALER.Example"));
    expect(check("j@Gmail.COM", undefined, policy)).toEqual(notAllowed("gmail.com"));
    expect(check("j@sub.dealer.example", undefined, policy)).toEqual(notAllowed("sub.dealer.example"));
    expect(check("j@evildealer.example", undefined, policy)).toEqual(notAllowed("evildealer.example"));
    expect(check("j@dealer.example.evil.example", undefined, policy)).toEqual(notAllowed("dealer.example.evil.example"));
  });

  it("takes the domain after the last @ only: the part before it plays no part", () => {
    const policy = { allowedDomains: ["dealer.example"] };
    expect(check("dealer.example@evil.example", undefined, policy)).toEqual(notAllowed("evil.example"));
    expect(check("j@x.example", undefined, { allowedDomains: ["x.example"] })).toEqual(accepted("j@x.example"));
  });

  it("accepts an address at any of several configured domains", () => {
    const policy = { allowedDomains: ["north.example", "*.south.example", "dealer.example"] };
    for (const email of ["j@north.example", "j@a.south.example", "j@dealer.example"]) expect(check(email, undefined, policy), email).toEqual(accepted(email));
    expect(check("j@south.example", undefined, policy)).toEqual(notAllowed("south.example"));
  });

  it("issue 19.7: refuses % or ! before the @ when domains are limited (source routing round the policy); allows them otherwise", () => {
    const policy = { allowedDomains: ["dealer.example"] };
    expect(check("x%evil.example@dealer.example", undefined, policy)).toEqual(ROUTED);
    expect(check("evil.example!x@dealer.example", undefined, policy)).toEqual(ROUTED);
    expect(check("j%@dealer.example", undefined, policy)).toEqual(ROUTED);
    expect(check("j.smith@dealer.example", undefined, policy)).toEqual(accepted("j.smith@dealer.example"));
    expect(check("x%evil.example@dealer.example")).toEqual(accepted("x%evil.example@dealer.example"));
    expect(check("evil.example!x@dealer.example")).toEqual(accepted("evil.example!x@dealer.example"));
    // The other characters the syntax allows are not source routes.
    expect(check("a#b$c&d*e=f?g^h{i}j|k~l@dealer.example", undefined, policy)).toMatchObject({ ok: true });
  });
});

describe("domainAllowed: an exact domain, or *. for its subdomains only", () => {
  it("allows anything when the list is empty", () => {
    expect(domainAllowed("gmail.com", [])).toBe(true);
  });

  it("an exact rule allows that domain only", () => {
    expect(domainAllowed("dealer.example", ["dealer.example"])).toBe(true);
    for (const domain of ["sub.dealer.example", "xdealer.example", "ealer.example", "dealer.example.evil.example", "dealer.exampl"]) {
      expect(domainAllowed(domain, ["dealer.example"]), domain).toBe(false);
    }
  });

  it("a *. rule allows subdomains at any depth, down to one letter, and not the domain itself or a look-alike", () => {
    const rule = ["*.dealer.example"];
    for (const domain of ["a.dealer.example", "north.dealer.example", "a.b.dealer.example"]) expect(domainAllowed(domain, rule), domain).toBe(true);
    for (const domain of ["dealer.example", ".dealer.example", "evildealer.example", "dealer.example.evil.example", "a.dealer.example.x"]) {
      expect(domainAllowed(domain, rule), domain).toBe(false);
    }
  });

  it("a domain is allowed when any one rule allows it", () => {
    expect(domainAllowed("a.dealer.example", ["other.example", "*.dealer.example"])).toBe(true);
    expect(domainAllowed("other.example", ["other.example", "*.dealer.example"])).toBe(true);
    expect(domainAllowed("third.example", ["other.example", "*.dealer.example"])).toBe(false);
  });
});

describe("checkEmailEntry: shared group mailboxes", () => {
  it("warn: refuses a role address without the tick, accepts it with the tick and says it is shared", () => {
    expect(check("info@dealer.example")).toEqual(SHARED_WARNED);
    expect(check("info@dealer.example", undefined, {}, true)).toEqual(accepted("info@dealer.example", true));
  });

  it("refuse: refuses a role address even with the tick", () => {
    expect(check("sales@dealer.example", undefined, { sharedMailboxPolicy: "refuse" }, true)).toEqual(SHARED_REFUSED);
    expect(check("sales@dealer.example", undefined, { sharedMailboxPolicy: "refuse" })).toEqual(SHARED_REFUSED);
  });

  it("off: accepts a role address without the tick and does not call it shared", () => {
    expect(check("sales@dealer.example", undefined, { sharedMailboxPolicy: "off" })).toEqual(accepted("sales@dealer.example"));
  });

  it("a personal address passes under every policy, tick or not, and is never called shared", () => {
    for (const sharedMailboxPolicy of ["warn", "refuse", "off"] as const) {
      for (const tick of [false, true]) {
        expect(check("j.smith@dealer.example", undefined, { sharedMailboxPolicy }, tick), `${sharedMailboxPolicy} ${tick}`).toEqual(accepted("j.smith@dealer.example"));
      }
    }
  });

  it("knows a role address in any case and with a +tag", () => {
    expect(check("INFO+leads@dealer.example", undefined, {}, true)).toEqual(accepted("INFO+leads@dealer.example", true));
    expect(check("Office@dealer.example")).toEqual(SHARED_WARNED);
  });

  it("checks the domain before the mailbox: a role address at a domain not allowed is refused for its domain", () => {
    expect(check("info@elsewhere.example", undefined, { allowedDomains: ["dealer.example"], sharedMailboxPolicy: "refuse" })).toEqual(notAllowed("elsewhere.example"));
  });
});

describe("isSharedMailbox: a role local part", () => {
  it("matches the whole part before the @, ignoring case and a +tag", () => {
    for (const email of ["info@x.example", "INFO@x.example", "Sales@x.example", "office+leads@x.example", "help+a+b@x.example", "noreply@x.example", "no-reply@x.example"]) {
      expect(isSharedMailbox(email, DEFAULT_SHARED_MAILBOX_NAMES), email).toBe(true);
    }
    for (const email of ["salesperson@x.example", "j.info@x.example", "info.desk@x.example", "i@x.example", "x+info@x.example", "infox@x.example"]) {
      expect(isSharedMailbox(email, DEFAULT_SHARED_MAILBOX_NAMES), email).toBe(false);
    }
  });

  it("reads the local part up to the last @ and uses the names given", () => {
    expect(isSharedMailbox("info@x.example", ["showroom"])).toBe(false);
    expect(isSharedMailbox("showroom@x.example", ["showroom"])).toBe(true);
    expect(isSharedMailbox("info@x.example", [])).toBe(false);
  });
});
