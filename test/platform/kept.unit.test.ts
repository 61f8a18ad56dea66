import { describe, expect, it } from "vitest";
import { Kept } from "../../src/platform/kept.ts";

describe("Kept, the bounded cache of the caches that keep values per zone, language, query or shape", () => {
  it("makes each value once, and starts again past its bound rather than grow", () => {
    const made: string[] = [];
    const kept = new Kept<string, string>(2);
    const make = (key: string) => (made.push(key), key.toUpperCase());
    expect(kept.get("a", make)).toBe("A");
    expect(kept.get("a", make)).toBe("A");
    expect(kept.get("b", make)).toBe("B");
    expect(made).toEqual(["a", "b"]);
    expect(kept.get("c", make)).toBe("C");
    expect(kept.size).toBe(1);
    expect(kept.get("a", make)).toBe("A");
    expect(made).toEqual(["a", "b", "c", "a"]);
  });

  it("keeps nothing when making the value throws", () => {
    const kept = new Kept<string, string>(2);
    expect(() => kept.get("x", () => { throw new Error("bad query"); })).toThrow("bad query");
    expect(kept.size).toBe(0);
  });
});
