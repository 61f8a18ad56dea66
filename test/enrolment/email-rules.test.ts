import { describe, expect, it } from "vitest";
import { DEFAULT_SHARED_MAILBOX_NAMES, loadConfig, type Config } from "../../src/config/config.ts";
import { checkEmailEntry, domainAllowed, isSharedMailbox } from "../../src/enrolment/email-rules.ts";

type Policy = Config["enrolment"];
const ANY: Policy = { allowedDomains: [], sharedMailboxPolicy: "warn", sharedMailboxNames: DEFAULT_SHARED_MAILBOX_NAMES };

const check = (email: string, confirm = email, policy: Partial<Policy> = {}, ownMailbox = false) =>
  checkEmailEntry({ email, confirmEmail: confirm, ownMailbox }, { ...ANY, ...policy });

describe("enrolment address rules (SPEC item 2)", () => {
  it("accepts what the WHATWG input type=email rule accepts", () => {
    for (const email of ["j.smith@dealer.example", "a+b@x.example", "o'brien@dealer.example", "user@localhost", "x_y-z@sub.dealer.example", "1@2.example"]) {
      expect(check(email), email).toMatchObject({ ok: true, email });
    }
  });

  it("refuses what the WHATWG rule refuses, with a clear message", () => {
    for (const email of ["j smith@x.example", "@x.example", "a@", "a@-x.example", "a@x-.example", "a@x..example", "a@@x.example", "a@x.example.", "jöe@x.example", '"quoted"@x.example', "a@x_y.example", "plainaddress", "a@x.example\r\nBcc: b@y.example"]) {
      expect(check(email), JSON.stringify(email)).toEqual({ ok: false, problem: "invalid", message: "Enter a valid email address, such as j.smith@dealer.example." });
    }
  });

  it("allows 254 characters in all and 64 before the @ (RFC 5321 §4.5.3.1), not one more", () => {
    const local64 = "l".repeat(64);
    const domain189 = `${"x".repeat(63)}.${"y".repeat(63)}.${"z".repeat(57)}.com`;
    expect(`${local64}@${domain189}`).toHaveLength(254);
    expect(check(`${local64}@${domain189}`)).toMatchObject({ ok: true });
    const longer = `${local64}@${"x".repeat(63)}.${"y".repeat(63)}.${"z".repeat(58)}.com`;
    expect(check(longer)).toMatchObject({ ok: false, problem: "too-long", message: "An email address can be at most 254 characters long." });
    expect(check(`${"l".repeat(65)}@dealer.example`)).toMatchObject({ ok: false, problem: "too-long", message: "The part before the @ can be at most 64 characters long." });
    expect(check("a".repeat(5000))).toMatchObject({ ok: false, problem: "too-long" });
  });

  it("trims surrounding spaces, compares the two fields without regard to case, and keeps the address as typed", () => {
    expect(check("  J.Smith@Dealer.example\t", "j.smith@dealer.EXAMPLE ")).toEqual({ ok: true, email: "J.Smith@Dealer.example", sharedMailbox: false });
    expect(check("j.smith@dealer.example", "j.smyth@dealer.example")).toMatchObject({ ok: false, problem: "mismatch", message: expect.stringContaining("do not match") });
    expect(check("", "")).toMatchObject({ ok: false, problem: "missing" });
    expect(check("   ", "   ")).toMatchObject({ ok: false, problem: "missing" });
  });

  it("limits domains when FAMOS_ALLOWED_EMAIL_DOMAINS is set: exact domain, or *. for its subdomains only", () => {
    const exact = { allowedDomains: ["dealer.example"] };
    expect(check("a@dealer.example", undefined, exact)).toMatchObject({ ok: true });
    expect(check("a@DEALER.Example", undefined, exact)).toMatchObject({ ok: true, email: "a@DEALER.Example" });
    expect(check("a@sub.dealer.example", undefined, exact)).toMatchObject({ ok: false, problem: "domain-not-allowed", message: "Use your work email address: addresses at sub.dealer.example are not accepted here." });
    const subs = { allowedDomains: ["*.dealer.example"] };
    expect(check("a@north.dealer.example", undefined, subs)).toMatchObject({ ok: true });
    expect(check("a@a.b.dealer.example", undefined, subs)).toMatchObject({ ok: true });
    expect(check("a@dealer.example", undefined, subs)).toMatchObject({ ok: false, problem: "domain-not-allowed" });
    expect(check("a@evildealer.example", undefined, subs)).toMatchObject({ ok: false, problem: "domain-not-allowed" });
    expect(domainAllowed("gmail.com", [])).toBe(true);
    expect(domainAllowed("dealer.example.evil.com", ["dealer.example", "*.dealer.example"])).toBe(false);
  });

  it("reads the allowed domains from the environment, without regard to case", () => {
    const result = loadConfig({ FAMOS_ALLOWED_EMAIL_DOMAINS: "Dealer.Example, *.Group.example" });
    expect(result.ok && result.config.enrolment.allowedDomains).toEqual(["dealer.example", "*.group.example"]);
  });

  it("warns about a shared mailbox and goes on only with the 'This is my own mailbox' tick (policy warn)", () => {
    const warned = check("info@dealer.example");
    expect(warned).toMatchObject({ ok: false, problem: "shared-mailbox", message: expect.stringContaining('tick "This is my own mailbox"') });
    expect(check("info@dealer.example", undefined, {}, true)).toEqual({ ok: true, email: "info@dealer.example", sharedMailbox: true });
  });

  it("refuses a shared mailbox even with the tick under policy refuse, and ignores it under off", () => {
    expect(check("Sales@dealer.example", undefined, { sharedMailboxPolicy: "refuse" }, true)).toMatchObject({ ok: false, problem: "shared-mailbox", message: expect.stringContaining("individually assigned") });
    expect(check("sales@dealer.example", undefined, { sharedMailboxPolicy: "off" })).toEqual({ ok: true, email: "sales@dealer.example", sharedMailbox: false });
  });

  it("knows role local parts, ignoring case and +tags, and uses a configured list", () => {
    for (const email of ["info@x.example", "SALES@x.example", "office+leads@x.example", "noreply@x.example", "enquiries@x.example"]) {
      expect(isSharedMailbox(email, DEFAULT_SHARED_MAILBOX_NAMES), email).toBe(true);
    }
    for (const email of ["salesperson@x.example", "j.info@x.example", "info.desk@x.example"]) {
      expect(isSharedMailbox(email, DEFAULT_SHARED_MAILBOX_NAMES), email).toBe(false);
    }
    const result = loadConfig({ FAMOS_SHARED_MAILBOX_NAMES: "Showroom, parts" });
    const names = result.ok ? result.config.enrolment.sharedMailboxNames : [];
    expect(isSharedMailbox("showroom@x.example", names)).toBe(true);
    expect(isSharedMailbox("info@x.example", names)).toBe(false);
  });
});
