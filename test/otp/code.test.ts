import { describe, expect, it } from "vitest";
import { generateCode, hashCode, normaliseTypedCode, sameHash } from "../../src/otp/code.ts";
import type { Random } from "../../src/platform/random.ts";

/** mulberry32: a small seeded generator, so the distribution test is the same on every run. */
function seededRandom(seed: number): Random & { calls: number[] } {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const calls: number[] = [];
  return {
    calls,
    bytes: (length) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256))),
    int: (max) => {
      calls.push(max);
      return Math.floor(next() * max);
    },
  };
}

describe("one time passcodes", () => {
  it("take six digits from the injected random source, zero-padded", () => {
    const fixed = (value: number): Random => ({ bytes: (n) => Buffer.alloc(n), int: () => value });
    expect(generateCode(fixed(42))).toBe("000042");
    expect(generateCode(fixed(0))).toBe("000000");
    expect(generateCode(fixed(999_999))).toBe("999999");
    const random = seededRandom(1);
    generateCode(random);
    // One draw over the whole range: no per-digit draws, no modulo bias added on top.
    expect(random.calls).toEqual([1_000_000]);
  });

  it("spread evenly over every digit position (chi-square, 60,000 codes)", () => {
    const random = seededRandom(2026);
    const counts = Array.from({ length: 6 }, () => new Array<number>(10).fill(0));
    const total = 60_000;
    let malformed = 0;
    for (let i = 0; i < total; i += 1) {
      const code = generateCode(random);
      if (!/^\d{6}$/.test(code)) malformed += 1;
      for (let p = 0; p < 6; p += 1) counts[p]![Number(code[p])]! += 1;
    }
    expect(malformed).toBe(0);
    const expected = total / 10;
    for (const position of counts) {
      const chiSquare = position.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
      // 9 degrees of freedom: 27.88 is the 0.1% critical value.
      expect(chiSquare).toBeLessThan(27.88);
    }
  });

  it("are stored as an HMAC bound to the flow, never as the digits", () => {
    const key = Buffer.alloc(32, 7);
    const hash = hashCode(key, "flow-1", "123456");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain("123456");
    expect(hashCode(key, "flow-1", "123456")).toBe(hash);
    expect(hashCode(key, "flow-2", "123456")).not.toBe(hash);
    expect(hashCode(Buffer.alloc(32, 8), "flow-1", "123456")).not.toBe(hash);
  });

  it("compare hashes in constant time and refuse hashes of another length", () => {
    const key = Buffer.alloc(32, 1);
    const a = hashCode(key, "f", "111111");
    expect(sameHash(a, a)).toBe(true);
    expect(sameHash(a, hashCode(key, "f", "111112"))).toBe(false);
    expect(sameHash(a, a.slice(0, 62))).toBe(false);
    expect(sameHash(a, "")).toBe(false);
  });

  it("accept what people type (spaces, dashes) and nothing else", () => {
    expect(normaliseTypedCode("123456")).toBe("123456");
    expect(normaliseTypedCode(" 123 456 ")).toBe("123456");
    expect(normaliseTypedCode("123-456")).toBe("123456");
    for (const bad of ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", "123456\n1", "+12345", "12.456"]) {
      expect(normaliseTypedCode(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
