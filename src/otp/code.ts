import { timingSafeEqual } from "node:crypto";
import { hmacHex } from "../platform/keys.ts";
import type { Random } from "../platform/random.ts";

export const CODE_DIGITS = 6;

/** Six digits, uniformly distributed, from the injected CSPRNG (NIST SP 800-63B 5.1.3.1). */
export function generateCode(random: Random): string {
  return String(random.int(10 ** CODE_DIGITS)).padStart(CODE_DIGITS, "0");
}

/**
 * Keyed hash bound to the flow the code was made for: a leaked table yields no codes, and a code
 * from one sign-in can't match another's hash.
 */
export function hashCode(key: Buffer, flowId: string, code: string): string {
  return hmacHex(key, `${flowId}:${code}`);
}

/** Prevents any possibility of a timing attack by using a constant-time comparison. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Accepts what people type: spaces and dashes are ignored ("123 456", "123-456"). */
export function normaliseTypedCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, "");
  return new RegExp(`^\\d{${CODE_DIGITS}}$`).test(digits) ? digits : null;
}
