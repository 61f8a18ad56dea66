import { randomBytes } from "node:crypto";
import { Signer } from "@fastify/cookie";
import { describe, expect, it } from "vitest";
import { cookieSigner } from "../../src/web/cookie-signer.ts";

// Issue 17: FAMOS signs its CSRF cookie with a key imported once; the signatures must be the plugin's
// own, so a cookie signed before an upgrade still verifies after it (and the other way round).
describe("the cookie signer", () => {
  const key = Buffer.from("0f".repeat(32), "hex");
  const ours = cookieSigner(key);
  const plugins = new Signer(key, "sha256");
  const values = ["a", "x-y_z", "dGVzdA", ...Array.from({ length: 20 }, (_, i) => randomBytes(1 + i).toString("base64url"))];

  it("signs exactly as @fastify/cookie does, and each accepts the other's signatures", () => {
    for (const value of values) {
      expect(ours.sign(value)).toBe(plugins.sign(value));
      expect(ours.unsign(plugins.sign(value))).toEqual({ valid: true, renew: false, value });
      expect(plugins.unsign(ours.sign(value))).toEqual({ valid: true, renew: false, value });
    }
  });

  it("refuses what is not a string with the plugin's own error, signing nothing", () => {
    const thrown = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        return [(error as Error).constructor.name, (error as Error).message];
      }
      return "no error";
    };
    for (const value of [7, Buffer.from("secret-value"), undefined] as unknown as string[]) {
      expect(thrown(() => ours.sign(value))).toEqual(thrown(() => plugins.sign(value)));
      expect(thrown(() => ours.unsign(value))).toEqual(thrown(() => plugins.unsign(value)));
    }
    expect(thrown(() => ours.sign(7 as unknown as string))).toEqual(["TypeError", "Cookie value must be provided as a string."]);
  });

  it("refuses a changed value, a changed or cut signature, another key's signature and no signature", () => {
    const signed = ours.sign("secret-value");
    const sig = signed.slice(signed.lastIndexOf(".") + 1);
    const refused = [
      `secret-valuf.${sig}`,
      `secret-value.${sig.slice(0, -1)}`,
      `secret-value.${sig}A`,
      `secret-value.${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`,
      cookieSigner(Buffer.from("10".repeat(32), "hex")).sign("secret-value"),
      "secret-value",
      "secret-value.",
      "",
    ];
    for (const forged of refused) expect(ours.unsign(forged), forged).toEqual({ valid: false, renew: false, value: null });
  });

  // Issue 17, round 34: each value's MAC is kept once made, so a sign-in's four checks of one cookie
  // make one HMAC. The keeping must change no answer, stay per key, and stay bounded.
  it("keeps at most its bound of MACs, and every answer stays the plugin's across the store starting again", () => {
    const small = cookieSigner(key, 3);
    for (const value of values) {
      expect(small.sign(value)).toBe(plugins.sign(value));
      expect(small.macsKept).toBeLessThanOrEqual(3);
    }
    for (const value of values) expect(small.unsign(plugins.sign(value))).toEqual({ valid: true, renew: false, value });
    expect(small.macsKept).toBeLessThanOrEqual(3);
    expect(small.macsKept).toBeGreaterThan(0);
  });

  it("a kept MAC passes no other signature: changed, another key's, or a value checked before it was signed", () => {
    const other = cookieSigner(Buffer.from("10".repeat(32), "hex"));
    const signed = ours.sign("kept-value");
    other.sign("kept-value");
    const sig = signed.slice(signed.lastIndexOf(".") + 1);
    expect(ours.unsign(other.sign("kept-value"))).toEqual({ valid: false, renew: false, value: null });
    expect(other.unsign(signed)).toEqual({ valid: false, renew: false, value: null });
    expect(ours.unsign(`kept-value.${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`)).toEqual({ valid: false, renew: false, value: null });
    // A forged check first, the real signature after it.
    expect(ours.unsign("checked-first.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).toEqual({ valid: false, renew: false, value: null });
    expect(ours.unsign(plugins.sign("checked-first"))).toEqual({ valid: true, renew: false, value: "checked-first" });
    expect(ours.unsign(signed)).toEqual({ valid: true, renew: false, value: "kept-value" });
  });
  // Review of round 34: a value the client sent is checked, never kept. Kept, a slice of the Cookie
  // header held the whole header (up to 16 KB) alive, 4,096 of them 60 MB; and junk values emptied
  // the store of the secrets this signer made.
  it("keeps only the MACs of values it signed: checking a client's value keeps nothing", () => {
    const signer = cookieSigner(key, 8);
    const made = signer.sign("made-here");
    for (let i = 0; i < 20; i += 1) {
      const header = `${"pad=".padEnd(15_000, "x")}; _csrf=junk-${i}.AAAA`;
      expect(signer.unsign(header.slice(header.indexOf("_csrf=") + 6))).toEqual({ valid: false, renew: false, value: null });
    }
    expect(signer.unsign(plugins.sign("valid-elsewhere"))).toEqual({ valid: true, renew: false, value: "valid-elsewhere" });
    expect(signer.macsKept).toBe(1);
    expect(signer.unsign(made)).toEqual({ valid: true, renew: false, value: "made-here" });
  });
});
