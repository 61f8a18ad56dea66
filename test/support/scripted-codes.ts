import { randomBytes } from "node:crypto";
import type { Random } from "../../src/platform/random.ts";

/** Codes come out in the order given (each a draw of a 6-digit code); everything else is truly random. */
export function scriptedCodes(...codes: number[]): Random {
  return { bytes: (n) => randomBytes(n), int: (max) => (max === 1_000_000 && codes.length ? codes.shift()! : Math.floor(Math.random() * max)) };
}
