import { describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../src/config/config.ts";
import { acceptReturnTo, formActionSources, returnTarget } from "../../src/web/return-to.ts";

function configFrom(env: Record<string, string>): { config: Readonly<Config> } {
  const result = loadConfig({ FAMOS_SECRET: "a".repeat(64), ...env });
  if (!result.ok) throw new Error(result.errors.join("; "));
  return { config: result.config };
}

const sibling = configFrom({ FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_COOKIE_DOMAIN: "dealer.example" });
const plain = configFrom({ FAMOS_PUBLIC_URL: "http://localhost:3000" });

describe("where a sign-in returns to (no open redirects, ASVS 5.1.5)", () => {
  it("accepts paths on this site, normalised", () => {
    expect(acceptReturnTo(plain, "/quotation?customer=42&view=full#top")).toBe("/quotation?customer=42&view=full#top");
    expect(acceptReturnTo(plain, "/vehicle/../customer")).toBe("/customer");
    expect(returnTarget(plain, null)).toBe("/");
  });

  it.each([
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "evil.example",
    "/quotation\r\nSet-Cookie: x=1",
    "/\u0000",
    `/${"a".repeat(2048)}`,
    "",
  ])("refuses %j", (value) => {
    expect(acceptReturnTo(sibling, value)).toBeNull();
    expect(returnTarget(sibling, value)).toBe("/");
  });

  it("accepts absolute addresses on FAMOS_PUBLIC_URL's host, any port, and on hosts under FAMOS_COOKIE_DOMAIN", () => {
    expect(acceptReturnTo(sibling, "https://famos.dealer.example/quotation")).toBe("https://famos.dealer.example/quotation");
    expect(acceptReturnTo(sibling, "https://famos.dealer.example:8443/x")).toBe("https://famos.dealer.example:8443/x");
    expect(acceptReturnTo(sibling, "https://app.dealer.example/quotes?id=7&a=%C5%81")).toBe("https://app.dealer.example/quotes?id=7&a=%C5%81");
    expect(acceptReturnTo(sibling, "https://dealer.example/")).toBe("https://dealer.example/");
    expect(acceptReturnTo(sibling, "HTTPS://Deep.App.DEALER.example/Q")).toBe("https://deep.app.dealer.example/Q");
    expect(acceptReturnTo(plain, "http://localhost:8080/app")).toBe("http://localhost:8080/app");
  });

  it.each([
    "https://evil.example/",
    "https://evildealer.example/",
    "https://app.dealer.example.evil.example/",
    "https://user:pass@app.dealer.example/",
    "https://evil.example#@app.dealer.example/",
    "https://evil.example?@app.dealer.example/",
    "https://evil.example\\@app.dealer.example/",
    "http://app.dealer.example/",
    "ftp://app.dealer.example/",
    "ws://app.dealer.example/",
  ])("refuses %j for an HTTPS FAMOS with FAMOS_COOKIE_DOMAIN=dealer.example", (value) => {
    expect(acceptReturnTo(sibling, value)).toBeNull();
  });

  it("accepts no sibling host without FAMOS_COOKIE_DOMAIN", () => {
    expect(acceptReturnTo(plain, "http://app.localhost/")).toBeNull();
    expect(acceptReturnTo(plain, "http://127.0.0.1:3000/")).toBeNull();
  });
});

describe("CSP form-action for the redirect after the code", () => {
  it("lists 'self', the public host on any port and the cookie domain with its subdomains", () => {
    expect(formActionSources(sibling.config)).toEqual(["'self'", "https://famos.dealer.example:*", "https://dealer.example:*", "https://*.dealer.example:*"]);
    expect(formActionSources(plain.config)).toEqual(["'self'", "http://localhost:*"]);
  });
});
