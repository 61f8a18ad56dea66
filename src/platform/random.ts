import { randomBytes, randomFillSync, randomInt } from "node:crypto";

/** Randomness is injected; production uses the operating system's CSPRNG. */
export interface Random {
  bytes(length: number): Buffer;
  /** A uniformly distributed integer in [0, max). */
  int(max: number): number;
}

/**
 * Small requests (ids, tokens, salts: 4–32 bytes) are cut from a pool the CSPRNG fills 4 KiB at a
 * time, as Node's own randomUUID and randomInt do: each call into the CSPRNG costs the same whatever
 * its size (issue 17: about ten per sign-in). Each caller gets a copy, and the bytes handed out are
 * zeroed in the pool, so it never holds a value already in use.
 */
const POOL_SIZE = 4096;
const POOLED_MAX = 64;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function pooledBytes(length: number): Buffer {
  if (length > POOLED_MAX) return randomBytes(length);
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // Buffer.alloc, not Buffer.from: memory of its own, outside Node's shared pool of small buffers.
  const bytes = Buffer.alloc(length);
  pool.copy(bytes, 0, poolOffset, poolOffset + length);
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
  return bytes;
}

export const cryptoRandom: Random = {
  bytes: pooledBytes,
  // crypto.randomInt rejects-and-retries, so the result carries no modulo bias.
  int: (max) => randomInt(max),
};

/** A URL-safe random identifier with `bytes` bytes of entropy. */
export function randomId(random: Random, bytes = 16): string {
  return random.bytes(bytes).toString("base64url");
}
