import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { webhookSecretMatches } from "../../src/bounce/webhook.ts";
import { hashCode, sameHash } from "../../src/otp/code.ts";
import { deviceToken, tokenFor } from "../../src/regulation/devices.ts";
import { cookieSigner } from "../../src/web/cookie-signer.ts";

/**
 * SPEC "Codes": compared in constant time; likewise every secret FAMOS checks against one it holds (the
 * CSRF cookie's signature, a device cookie's MAC, the bounce webhook's secret). A difference of
 * nanoseconds per byte cannot be measured in a test on a shared machine, so each comparison is held to
 * its source: it goes through crypto.timingSafeEqual and through no comparison that stops at the first
 * difference (===, Buffer#equals, Buffer.compare). And each still tells equal from different.
 */

/** The function's own text, as V8 keeps it: what it runs. */
const source = (fn: (...args: never[]) => unknown) => Function.prototype.toString.call(fn);
// Comparing the two lengths first is fine (a length is no secret); comparing the values is not.
const EARLY_EXIT = /\.equals\(|Buffer\.compare\(|\b(expected|right|actual|b)\s*[!=]==|[!=]==\s*(expected|right|actual|b)\b(?!\.length)/;
// The test runner's module transform calls an import as (0, __vite_ssr_import_0__.timingSafeEqual)(…).
const TIMING_SAFE = /timingSafeEqual\)?\(/;

describe("secrets are compared in constant time", () => {
  it("a code's keyed hash (sameHash): timingSafeEqual, nothing that stops early; equal, different and shorter told apart", () => {
    expect(source(sameHash)).toMatch(TIMING_SAFE);
    expect(source(sameHash)).not.toMatch(EARLY_EXIT);
    const key = randomBytes(32);
    const stored = hashCode(key, "flow-1", "123456");
    expect(sameHash(hashCode(key, "flow-1", "123456"), stored)).toBe(true);
    expect(sameHash(hashCode(key, "flow-1", "123457"), stored)).toBe(false);
    expect(sameHash(stored.slice(0, -2), stored)).toBe(false);
  });

  it("a device cookie's MAC (tokenFor): timingSafeEqual, nothing that stops early; another login ID's or a changed MAC refused", () => {
    expect(source(tokenFor)).toMatch(TIMING_SAFE);
    expect(source(tokenFor)).not.toMatch(EARLY_EXIT);
    const key = randomBytes(32);
    const token = deviceToken(key, "device-1", "anna");
    expect(tokenFor(key, [token], "anna")).toBe("device-1");
    expect(tokenFor(key, [token], "ben")).toBeNull();
    // The MAC's first character: its last one carries two bits that base64url decoding drops, so a token
    // ending in "A" changed to "B" decodes to the same MAC (1 run in 16 went red so).
    const dot = token.indexOf(".") + 1;
    expect(tokenFor(key, [`${token.slice(0, dot)}${token[dot] === "A" ? "B" : "A"}${token.slice(dot + 1)}`], "anna")).toBeNull();
  });

  it("the CSRF cookie's signature (cookieSigner): timingSafeEqual, nothing that stops early; a changed signature refused", () => {
    expect(source(cookieSigner)).toMatch(TIMING_SAFE);
    expect(source(cookieSigner)).not.toMatch(EARLY_EXIT);
    const signer = cookieSigner(randomBytes(32));
    const signed = signer.sign("secret-value");
    expect(signer.unsign(signed)).toEqual({ valid: true, renew: false, value: "secret-value" });
    expect(signer.unsign(`${signed.slice(0, -1)}${signed.endsWith("A") ? "B" : "A"}`).valid).toBe(false);
  });

  it("the bounce webhook's shared secret: timingSafeEqual over digests (no length told), nothing that stops early", () => {
    expect(source(webhookSecretMatches)).toMatch(TIMING_SAFE);
    expect(source(webhookSecretMatches)).not.toMatch(EARLY_EXIT);
    expect(webhookSecretMatches("a shared secret", "a shared secret")).toBe(true);
    expect(webhookSecretMatches("a shared secreT", "a shared secret")).toBe(false);
    expect(webhookSecretMatches("a shared", "a shared secret")).toBe(false);
  });
});
