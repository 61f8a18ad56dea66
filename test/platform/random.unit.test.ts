import { describe, expect, it } from "vitest";
import { cryptoRandom, randomId } from "../../src/platform/random.ts";

// Issue 17: small random values are cut from a pool the CSPRNG fills 4 KiB at a time.
describe("the production random source", () => {
  it("gives each caller bytes of its own: never shared with the pool or with another caller, never repeated", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const length = 1 + (i % 40);
      const bytes = cryptoRandom.bytes(length);
      expect(bytes.length).toBe(length);
      // A copy: its own memory, not a view of the pool another caller will be handed.
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(length);
      if (length >= 16) {
        const hex = bytes.toString("hex");
        expect(seen.has(hex)).toBe(false);
        seen.add(hex);
      }
      bytes.fill(0xff);
    }
    // Filling the handed-out buffers changed nothing handed out after them.
    const next = Array.from({ length: 200 }, () => cryptoRandom.bytes(16).toString("hex"));
    expect(next.filter((hex) => hex === "ff".repeat(16))).toEqual([]);
    expect(new Set(next).size).toBe(200);
  });

  it("spreads its bytes evenly (no zeroed or stuck part of the pool leaks out)", () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 4000; i++) for (const byte of cryptoRandom.bytes(16)) counts[byte]! += 1;
    // 64,000 bytes over 256 values: 250 each on average; a zeroed stretch of the pool would pile onto 0.
    expect(Math.max(...counts)).toBeLessThan(400);
    expect(Math.min(...counts)).toBeGreaterThan(150);
  });

  it("serves large requests too, and ids of the asked entropy", () => {
    expect(cryptoRandom.bytes(5000).length).toBe(5000);
    expect(randomId(cryptoRandom)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
