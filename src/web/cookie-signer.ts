import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
import { Kept } from "../platform/kept.ts";

/** What @fastify/cookie calls to sign and check a cookie (its "custom signer"). */
export interface CookieSigner {
  sign(value: string): string;
  unsign(signed: string): { valid: true; renew: false; value: string } | { valid: false; renew: false; value: null };
}

const INVALID = Object.freeze({ valid: false, renew: false, value: null } as const);

/** How many values' MACs a signer keeps (Kept's bound): a CSRF secret is signed once and checked on each request after it. */
export const MACS_KEPT = 4096;

/**
 * The CSRF cookie's signature, as @fastify/cookie's own signer makes it (`value.` + HMAC-SHA256 in
 * base64 without padding), so cookies signed before stay valid. The key is imported once as a
 * KeyObject: the plugin's signer hands the raw key to createHmac, which imports it again for every
 * cookie signed or checked (issue 17). A value's MAC is kept once made (at most `kept` of them, per
 * signer and so per key): a sign-in checks the cookie it was given four times, and HMAC gives the
 * same MAC for the same value every time. Only values this signer signed are kept (secrets it made);
 * a value a client sent is checked and never kept: a slice of the Cookie header would hold the whole
 * header alive, and junk values would push the secrets out. The check itself is unchanged: the MAC the
 * cookie carries is compared with the expected one in constant time, like the plugin's. The lookup is
 * by the value, never by the MAC sent: a hit tells only that this secret was signed here.
 */
export function cookieSigner(key: Buffer, kept = MACS_KEPT): CookieSigner & { readonly macsKept: number } {
  const keyObject: KeyObject = createSecretKey(key);
  const macs = new Kept<string, string>(kept);
  const makeMac = (value: string) => createHmac("sha256", keyObject).update(value).digest("base64").replace(/=+$/, "");
  return {
    sign(value) {
      if (typeof value !== "string") throw new TypeError("Cookie value must be provided as a string.");
      return `${value}.${macs.get(value, makeMac)}`;
    },
    unsign(signed) {
      if (typeof signed !== "string") throw new TypeError("Signed cookie string must be provided.");
      const dot = signed.lastIndexOf(".");
      if (dot === -1 || dot === signed.length - 1) return INVALID;
      const value = signed.slice(0, dot);
      const actual = Buffer.from(signed.slice(dot + 1));
      const expected = Buffer.from(macs.find(value) ?? makeMac(value));
      return expected.length === actual.length && timingSafeEqual(expected, actual) ? { valid: true, renew: false, value } : INVALID;
    },
    get macsKept() {
      return macs.size;
    },
  };
}
