import { randomBytes } from "node:crypto";
import type { Random } from "../../src/platform/random.ts";

/** A draw of a 6-digit code (generateCode) takes `next()` while it gives one; everything else is truly random. */
function codesFrom(next: () => number | undefined): Random {
  return { bytes: (n) => randomBytes(n), int: (max) => (max === 1_000_000 ? next() : undefined) ?? Math.floor(Math.random() * max) };
}

/** Codes come out in the order given (each a draw of a 6-digit code); everything else is truly random. */
export function scriptedCodes(...codes: number[]): Random {
  return codesFrom(() => codes.shift());
}

/** Every code drawn is `code` (the racing flows of one user, each typing the same code); everything else is truly random. */
export function everyCode(code: number): Random {
  return codesFrom(() => code);
}
