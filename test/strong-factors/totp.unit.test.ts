import { describe, expect, it } from "vitest";
import { generate } from "otplib";
import { cryptoRandom, type Random } from "../../src/platform/random.ts";
import { newTotpSecret, normaliseTotp, timeStep, totpUri, verifyTotp } from "../../src/strong-factors/totp.ts";

const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // RFC 6238 appendix B's key in base32
const T = 1_111_111_109_000;
const codeAt = (ms: number) => generate({ secret: SECRET, epoch: Math.floor(ms / 1000) });

/**
 * The authenticator app's code (src/strong-factors/totp.ts): RFC 6238 with 30-second steps, one
 * step of drift either way, and the step it was accepted for, which the caller stores so the same
 * code (or an older one) is "used" next time.
 */
describe("authenticator app codes (unit)", () => {
  it("a new secret is 160 random bits in base32, taken from the injected randomness", () => {
    const asked: number[] = [];
    const fixed: Random = { bytes: (n) => (asked.push(n), Buffer.alloc(n, 0xff)), int: () => 0 };
    expect(newTotpSecret(fixed)).toBe("7".repeat(32));
    expect(asked).toEqual([20]);
    expect(newTotpSecret(cryptoRandom)).toMatch(/^[A-Z2-7]{32}$/);
  });

  it("the QR code's URI names FAMOS, the login ID, the secret, 6 digits and 30 seconds", () => {
    const uri = new URL(totpUri(SECRET, "jane.smith"));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/FAMOS:jane.smith");
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ secret: SECRET, issuer: "FAMOS" });
    // otplib leaves out what apps assume anyway (Key Uri Format: 6 digits, 30 seconds).
    expect(uri.searchParams.get("digits") ?? "6").toBe("6");
    expect(uri.searchParams.get("period") ?? "30").toBe("30");
  });

  it("counts steps of 30 seconds from the epoch", () => {
    expect(timeStep(0)).toBe(0);
    expect(timeStep(29_999)).toBe(0);
    expect(timeStep(30_000)).toBe(1);
    expect(timeStep(T)).toBe(37_037_036);
  });

  it("takes spaces and dashes out of a typed code, and refuses anything but six digits", () => {
    expect(normaliseTotp(" 123 456 ")).toBe("123456");
    expect(normaliseTotp("123-456")).toBe("123456");
    expect(normaliseTotp("\t12\n34 56")).toBe("123456");
    for (const bad of ["", "12345", "1234567", "a123456", "123456a", "12345a", "12 3a56", "１２３４５６"]) expect(normaliseTotp(bad), bad).toBeNull();
  });

  it("returns the step a code was made for, drift included, so the next check can refuse it and older ones", async () => {
    const now = T + 5_000;
    const step = timeStep(now);
    for (const offset of [-1, 0, 1]) {
      const code = await codeAt(now + offset * 30_000);
      expect(await verifyTotp(SECRET, code, now, null), `${offset}`).toEqual({ kind: "ok", step: step + offset });
      expect(await verifyTotp(SECRET, code, now, step + offset - 1), `${offset}`).toEqual({ kind: "ok", step: step + offset });
      expect(await verifyTotp(SECRET, code, now, step + offset), `${offset}`).toEqual({ kind: "used" });
    }
    // A code one step back, after a later one was accepted: "used", not a way past the replay rule.
    expect(await verifyTotp(SECRET, await codeAt(now - 30_000), now, step)).toEqual({ kind: "used" });
    // Step 0 stored is a step like any other (not "none").
    expect(await verifyTotp(SECRET, await codeAt(15_000), 15_000, 0)).toEqual({ kind: "used" });
  });

  it("is exact at the step's edges: the last and first millisecond of a step, drift counted from the step of now", async () => {
    const start = timeStep(T) * 30_000;
    for (const now of [start, start + 29_999]) {
      expect(await verifyTotp(SECRET, await codeAt(start - 30_000), now, null)).toEqual({ kind: "ok", step: timeStep(T) - 1 });
      expect(await verifyTotp(SECRET, await codeAt(start + 30_000), now, null)).toEqual({ kind: "ok", step: timeStep(T) + 1 });
      expect((await verifyTotp(SECRET, await codeAt(start - 60_000), now, null)).kind).toBe("wrong");
      expect((await verifyTotp(SECRET, await codeAt(start + 60_000), now, null)).kind).toBe("wrong");
    }
  });

  it("a wrong code is wrong whatever was stored, and a code of another secret is wrong", async () => {
    const code = await codeAt(T);
    const other = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    expect(await verifyTotp(SECRET, other, T, null)).toEqual({ kind: "wrong" });
    expect(await verifyTotp(SECRET, other, T, timeStep(T) + 5)).toEqual({ kind: "wrong" });
    expect(await verifyTotp("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", code, T, null)).toEqual({ kind: "wrong" });
  });
});
