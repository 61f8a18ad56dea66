import { parseOptions } from "@node-rs/argon2";

/**
 * A stored password hash, parsed strictly. Imported hashes are taken as they are (SPEC
 * "Passwords"), so whatever an import file holds is untrusted: anything this module does not
 * accept is refused by the importer and fails verification, never throws.
 */
export type StoredHash =
  | {
      kind: "argon2";
      variant: "argon2id" | "argon2i" | "argon2d";
      phc: string;
      version: 16 | 19;
      memoryCost: number;
      timeCost: number;
      parallelism: number;
    }
  | { kind: "bcrypt"; cost: number; hash: string }
  | { kind: "pbkdf2_sha256"; iterations: number; salt: string; hash: Buffer };

/**
 * Work limits on imported hashes. The work factor is part of the stored string, so without a
 * ceiling one hostile row (bcrypt cost 31, a billion PBKDF2 iterations, argon2 with gigabytes of
 * memory) would tie up the server for hours at each sign-in attempt. Each limit is far above what
 * real systems use and costs a few seconds at most on one core.
 */
export const WORK_LIMITS = {
  argon2MemoryKiB: 262_144, // 256 MiB
  argon2TimeCost: 16,
  argon2Parallelism: 16,
  bcryptCost: 16, // about 4 s in bcryptjs; real deployments use 10 to 14
  pbkdf2Iterations: 10_000_000, // Django 5.2 uses 1,000,000
} as const;

const ARGON2_PHC =
  /^\$(argon2id|argon2i|argon2d)\$(?:v=(?:16|19)\$)?m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{22,}$/;
// Modular crypt format: cost, then 22 characters of salt and 31 of hash in bcrypt's base64.
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;
// Django's PBKDF2PasswordHasher.encode(): "<algorithm>$<iterations>$<salt>$<base64 hash>".
const PBKDF2_SHA256 = /^pbkdf2_sha256\$([1-9][0-9]{0,9})\$([^$]+)\$([A-Za-z0-9+/]+={0,2})$/;

export function parseStoredHash(stored: string): StoredHash | null {
  if (stored.startsWith("$argon2")) return parseArgon2(stored);
  if (stored.startsWith("$2")) return parseBcrypt(stored);
  if (stored.startsWith("pbkdf2_sha256$")) return parsePbkdf2(stored);
  return null;
}

function parseArgon2(stored: string): StoredHash | null {
  const match = ARGON2_PHC.exec(stored);
  if (match === null) return null;
  let options;
  try {
    // The library's own PHC parser checks the base64 fields and the ranges of m, t and p.
    options = parseOptions(stored);
  } catch {
    return null;
  }
  const { memoryCost, timeCost, parallelism } = options;
  if (
    memoryCost > WORK_LIMITS.argon2MemoryKiB ||
    timeCost > WORK_LIMITS.argon2TimeCost ||
    parallelism > WORK_LIMITS.argon2Parallelism ||
    memoryCost < 8 * parallelism // RFC 9106 §3.1: m must be at least 8p
  ) {
    return null;
  }
  return {
    kind: "argon2",
    variant: match[1] as "argon2id" | "argon2i" | "argon2d",
    phc: stored,
    // Version 0x10 is 16, 0x13 is 19 (RFC 9106 §3.1); a PHC string without v= is version 16.
    version: options.version === 0 ? 16 : 19,
    memoryCost,
    timeCost,
    parallelism,
  };
}

function parseBcrypt(stored: string): StoredHash | null {
  const match = BCRYPT.exec(stored);
  if (match === null) return null;
  const cost = Number(match[1]);
  if (cost > WORK_LIMITS.bcryptCost) return null;
  // $2y$ (PHP's crypt_blowfish) and $2b$ (OpenBSD) name the same corrected algorithm, and $2a$
  // agrees with both on every password shorter than 255 bytes; one spelling keeps one code path.
  return { kind: "bcrypt", cost, hash: stored.replace(/^\$2y\$/, "$2b$") };
}

function parsePbkdf2(stored: string): StoredHash | null {
  const match = PBKDF2_SHA256.exec(stored);
  if (match === null) return null;
  const [, iterationsText = "", salt = "", encoded = ""] = match;
  const iterations = Number(iterationsText);
  if (iterations > WORK_LIMITS.pbkdf2Iterations) return null;
  const hash = Buffer.from(encoded, "base64");
  // Node's decoder skips what it cannot read, so only a value that encodes back to the same text
  // is valid base64. An empty or tiny hash would match almost any password: demand 16 to 64 bytes
  // (Django writes 32, the SHA-256 output size).
  if (hash.toString("base64") !== encoded || hash.length < 16 || hash.length > 64) return null;
  return { kind: "pbkdf2_sha256", iterations, salt, hash };
}

/**
 * The format of a stored hash as the CSV importer (`famos user import`) accepts it, without
 * verifying anything; null for anything else, including argon2i and argon2d, which the import
 * format does not list, and hashes over WORK_LIMITS, which could not be verified.
 */
export function describeHashFormat(stored: string): "argon2id" | "bcrypt" | "pbkdf2_sha256" | null {
  const parsed = parseStoredHash(stored);
  if (parsed === null) return null;
  if (parsed.kind === "argon2") return parsed.variant === "argon2id" ? "argon2id" : null;
  return parsed.kind;
}
