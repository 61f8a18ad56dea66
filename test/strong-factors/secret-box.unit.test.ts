import { describe, expect, it } from "vitest";
import { deriveKeys } from "../../src/platform/keys.ts";
import { cryptoRandom, type Random } from "../../src/platform/random.ts";
import { openSecret, sealSecret } from "../../src/strong-factors/secret-box.ts";

const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const key = deriveKeys(Buffer.alloc(32, 0x5a)).totpSecret;
const otherKey = deriveKeys(Buffer.alloc(32, 0x5b)).totpSecret;
const bytesOf = (sealed: string) => Buffer.from(sealed.slice(3), "base64url");
const sealedOf = (bytes: Buffer) => `v1:${bytes.toString("base64url")}`;

/**
 * The authenticator secret at rest (src/strong-factors/secret-box.ts, ASVS 2.9.2): AES-256-GCM
 * under keys.totpSecret, the user's id as associated data, a fresh 96-bit nonce from the injected
 * randomness. What does not open answers null, never a wrong secret and never an exception.
 */
describe("sealed authenticator secrets (unit)", () => {
  it("seals as v1:<nonce, tag, body> with a 12-byte nonce from the injected randomness, the body as long as the secret", () => {
    const asked: number[] = [];
    const fixed: Random = { bytes: (n) => (asked.push(n), Buffer.alloc(n, 7)), int: () => 0 };
    const sealed = sealSecret(key, fixed, "user-1", SECRET);
    expect(asked).toEqual([12]);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9_-]+$/);
    const bytes = bytesOf(sealed);
    expect(bytes.subarray(0, 12).equals(Buffer.alloc(12, 7))).toBe(true);
    expect(bytes.length).toBe(12 + 16 + SECRET.length);
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    expect(openSecret(key, "user-1", sealed)).toBe(SECRET);
    // The same nonce, key, user and secret seal alike; another nonce seals otherwise, and both open.
    expect(sealSecret(key, fixed, "user-1", SECRET)).toBe(sealed);
    const fresh = sealSecret(key, cryptoRandom, "user-1", SECRET);
    expect(fresh).not.toBe(sealed);
    expect(openSecret(key, "user-1", fresh)).toBe(SECRET);
  });

  it("opens the shortest value it can seal (one character) and non-ASCII text as it was", () => {
    expect(openSecret(key, "u", sealSecret(key, cryptoRandom, "u", "A"))).toBe("A");
    expect(openSecret(key, "ü-user", sealSecret(key, cryptoRandom, "ü-user", "Grüße"))).toBe("Grüße");
  });

  it("does not open under another key, for another user, or with its user id changed by a character", () => {
    const sealed = sealSecret(key, cryptoRandom, "user-1", SECRET);
    expect(openSecret(otherKey, "user-1", sealed)).toBeNull();
    expect(openSecret(key, "user-2", sealed)).toBeNull();
    expect(openSecret(key, "user-1 ", sealed)).toBeNull();
    expect(openSecret(key, "", sealed)).toBeNull();
  });

  it("answers null to any change of nonce, tag or body, to another version, and to what is cut short or not sealed at all", () => {
    const sealed = sealSecret(key, cryptoRandom, "user-1", SECRET);
    const bytes = bytesOf(sealed);
    for (const at of [0, 11, 12, 27, 28, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[at] = changed[at]! ^ 0x01;
      expect(openSecret(key, "user-1", sealedOf(changed)), `byte ${at}`).toBeNull();
    }
    for (const length of [0, 12, 28, bytes.length - 1]) expect(openSecret(key, "user-1", sealedOf(bytes.subarray(0, length))), `${length} bytes`).toBeNull();
    expect(openSecret(key, "user-1", sealedOf(Buffer.concat([bytes, Buffer.from([0])])))).toBeNull();
    for (const other of [sealed.replace(/^v1:/, "v2:"), sealed.replace(/^v1:/, "V1:"), sealed.replace(/^v1:/, ""), sealed.replace(/^v1:/, ":"), "v1", "v1:", "", SECRET]) {
      expect(openSecret(key, "user-1", other), other).toBeNull();
    }
  });

  it("an empty secret, sealed, does not open: nothing shorter than nonce, tag and one byte is taken", () => {
    const empty = sealSecret(key, cryptoRandom, "user-1", "");
    expect(bytesOf(empty).length).toBe(28);
    expect(openSecret(key, "user-1", empty)).toBeNull();
  });
});
