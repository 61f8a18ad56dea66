import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";

/** What @fastify/cookie calls to sign and check a cookie (its "custom signer"). */
export interface CookieSigner {
  sign(value: string): string;
  unsign(signed: string): { valid: true; renew: false; value: string } | { valid: false; renew: false; value: null };
}

const INVALID = Object.freeze({ valid: false, renew: false, value: null } as const);

/**
 * The CSRF cookie's signature, as @fastify/cookie's own signer makes it (`value.` + HMAC-SHA256 in
 * base64 without padding), so cookies signed before stay valid. The key is imported once as a
 * KeyObject: the plugin's signer hands the raw key to createHmac, which imports it again for every
 * cookie signed or checked (issue 17). Checked in constant time, like the plugin's.
 */
export function cookieSigner(key: Buffer): CookieSigner {
  const keyObject: KeyObject = createSecretKey(key);
  const mac = (value: string) => createHmac("sha256", keyObject).update(value).digest("base64").replace(/=+$/, "");
  return {
    sign(value) {
      if (typeof value !== "string") throw new TypeError("Cookie value must be provided as a string.");
      return `${value}.${mac(value)}`;
    },
    unsign(signed) {
      if (typeof signed !== "string") throw new TypeError("Signed cookie string must be provided.");
      const dot = signed.lastIndexOf(".");
      if (dot === -1 || dot === signed.length - 1) return INVALID;
      const value = signed.slice(0, dot);
      const actual = Buffer.from(signed.slice(dot + 1));
      const expected = Buffer.from(mac(value));
      return expected.length === actual.length && timingSafeEqual(expected, actual) ? { valid: true, renew: false, value } : INVALID;
    },
  };
}
