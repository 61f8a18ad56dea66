import { randomBytes, randomInt } from "node:crypto";

/** Randomness is injected; production uses the operating system's CSPRNG. */
export interface Random {
  bytes(length: number): Buffer;
  /** A uniformly distributed integer in [0, max). */
  int(max: number): number;
}

export const cryptoRandom: Random = {
  bytes: (length) => randomBytes(length),
  // crypto.randomInt rejects-and-retries, so the result carries no modulo bias.
  int: (max) => randomInt(max),
};

/** A URL-safe random identifier with `bytes` bytes of entropy. */
export function randomId(random: Random, bytes = 16): string {
  return random.bytes(bytes).toString("base64url");
}
