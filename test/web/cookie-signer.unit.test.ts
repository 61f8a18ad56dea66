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
});
