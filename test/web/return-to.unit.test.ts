import { describe, expect, it } from "vitest";
import { acceptReturnTo, formActionSources } from "../../src/web/return-to.ts";
import { unitConfig } from "../support/unit-app.ts";

const at = (env: Record<string, string>) => ({ config: unitConfig(env) });
const plain = at({ FAMOS_PUBLIC_URL: "http://localhost:3000" });
const sibling = at({ FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_COOKIE_DOMAIN: "dealer.example" });

/** ASVS 5.1.5, the edges of src/web/return-to.ts (the main cases: return-to.test.ts). */
describe("return addresses at their edges (unit tier)", () => {
  it("takes a return address of 2,048 characters and refuses 2,049", () => {
    const longest = `/${"a".repeat(2047)}`;
    expect(acceptReturnTo(plain, longest)).toBe(longest);
    expect(acceptReturnTo(plain, `${longest}a`)).toBeNull();
  });

  it.each(["/..//evil.example", "/x/../..//evil.example/path", "/.//evil.example"])("refuses %j, which normalises to a network-path reference", (value) => {
    expect(acceptReturnTo(plain, value)).toBeNull();
  });

  it("keeps a path that merely ends with slashes", () => {
    expect(acceptReturnTo(plain, "/quotation//")).toBe("/quotation//");
  });

  it.each(["ftp://localhost:3000/x", "ws://localhost/x", "file://localhost/etc/passwd"])("refuses %j on a plain-HTTP FAMOS: only http: and https: go back", (value) => {
    expect(acceptReturnTo(plain, value)).toBeNull();
  });

  it.each(["https://user@app.dealer.example/", "https://:secret@app.dealer.example/", "https://user:@app.dealer.example/"])("refuses credentials in %j, user or password alone", (value) => {
    expect(acceptReturnTo(sibling, value)).toBeNull();
  });

  it("refuses every other host without FAMOS_COOKIE_DOMAIN, even one named like a missing domain", () => {
    expect(acceptReturnTo(plain, "http://evil.null/")).toBeNull();
    expect(acceptReturnTo(plain, "http://null/")).toBeNull();
    expect(acceptReturnTo(plain, "http://localhost/x")).toBe("http://localhost/x");
  });
});

describe("CSP form-action at its edges (unit tier)", () => {
  it("keeps 'self' alone for an IPv6 literal public address (CSP has no host-source for it)", () => {
    expect(formActionSources(unitConfig({ FAMOS_PUBLIC_URL: "http://[::1]:3000" }))).toEqual(["'self'"]);
  });

  it("lists the cookie domain once when it is the public host itself", () => {
    expect(formActionSources(unitConfig({ FAMOS_PUBLIC_URL: "https://dealer.example", FAMOS_COOKIE_DOMAIN: "dealer.example" }))).toEqual([
      "'self'",
      "https://dealer.example:*",
      "https://*.dealer.example:*",
    ]);
  });

  it("lowers the case of the cookie domain and drops its leading dot", () => {
    expect(formActionSources(unitConfig({ FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_COOKIE_DOMAIN: ".Dealer.Example" }))).toEqual([
      "'self'",
      "https://famos.dealer.example:*",
      "https://dealer.example:*",
      "https://*.dealer.example:*",
    ]);
  });
});
