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
 * ceiling one hostile or merely old-fashioned row is a denial-of-service lever: an outside test
 * found a bcrypt cost-16 hash took 24 s per wrong attempt, and an argon2 hash with 256 MiB took the
 * server from 104 to 1,128 MB (issue 19.3). Each ceiling is what real systems write today:
 * bcrypt 10 to 12, Django's PBKDF2 default (1,200,000 since Django 6.0, about 20% more each
 * release: 1,500,000 leaves room for the next), argon2 at OWASP's heavier settings (64 MiB, t ≤ 4).
 * A hash over a limit is refused by the importer with the reason, and fails verification.
 */
export const WORK_LIMITS = {
  argon2MemoryKiB: 65_536, // 64 MiB
  argon2TimeCost: 4,
  argon2Parallelism: 16,
  bcryptCost: 12,
  pbkdf2Iterations: 1_500_000,
} as const;

const ARGON2_PHC =
  /^\$(argon2id|argon2i|argon2d)\$(?:v=(?:16|19)\$)?m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{22,}$/;
// Modular crypt format: cost, then 22 characters of salt and 31 of hash in bcrypt's base64.
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$([./A-Za-z0-9]*)$/;
const BCRYPT_BODY_LENGTH = 53;
// Django's PBKDF2PasswordHasher.encode(): "<algorithm>$<iterations>$<salt>$<base64 hash>".
const PBKDF2_SHA256 = /^pbkdf2_sha256\$([1-9][0-9]{0,9})\$([^$]+)\$([A-Za-z0-9+/]+={0,2})$/;

/**
 * A stored hash read strictly: usable, malformed, or well formed but over a work limit (and why).
 * A malformed hash in a known format whose only fault is its length says so (lengthReason), so an
 * operator does not hunt for a format problem that is not there.
 */
export type HashInspection = StoredHash | { kind: "malformed"; lengthReason?: string } | { kind: "too-heavy"; reason: string };

export function parseStoredHash(stored: string): StoredHash | null {
  const inspected = inspectStoredHash(stored);
  return inspected.kind === "malformed" || inspected.kind === "too-heavy" ? null : inspected;
}

export function inspectStoredHash(stored: string): HashInspection {
  if (stored.startsWith("$argon2")) return parseArgon2(stored);
  if (stored.startsWith("$2")) return parseBcrypt(stored);
  if (stored.startsWith("pbkdf2_sha256$")) return parsePbkdf2(stored);
  return MALFORMED;
}

const MALFORMED = { kind: "malformed" } as const;
const PBKDF2_DIGEST_BYTES = { min: 16, max: 64 } as const;

function parseArgon2(stored: string): HashInspection {
  const match = ARGON2_PHC.exec(stored);
  if (match === null) return MALFORMED;
  let options;
  try {
    // The library's own PHC parser checks the base64 fields and the ranges of m, t and p.
    options = parseOptions(stored);
  } catch {
    return MALFORMED;
  }
  const { memoryCost, timeCost, parallelism } = options;
  if (memoryCost < 8 * parallelism) return MALFORMED; // RFC 9106 §3.1: m must be at least 8p
  if (memoryCost > WORK_LIMITS.argon2MemoryKiB) return tooHeavy(`argon2 memory m=${memoryCost} KiB is above FAMOS's limit of ${WORK_LIMITS.argon2MemoryKiB} KiB (64 MiB)`);
  if (timeCost > WORK_LIMITS.argon2TimeCost) return tooHeavy(`argon2 t=${timeCost} is above FAMOS's limit of ${WORK_LIMITS.argon2TimeCost}`);
  if (parallelism > WORK_LIMITS.argon2Parallelism) return tooHeavy(`argon2 p=${parallelism} is above FAMOS's limit of ${WORK_LIMITS.argon2Parallelism}`);
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

function tooHeavy(reason: string): HashInspection {
  return { kind: "too-heavy", reason };
}

function parseBcrypt(stored: string): HashInspection {
  const match = BCRYPT.exec(stored);
  if (match === null) return MALFORMED;
  const body = match[2] ?? "";
  if (body.length !== BCRYPT_BODY_LENGTH) {
    return { kind: "malformed", lengthReason: `this bcrypt hash has ${body.length} characters after the cost, ${BCRYPT_BODY_LENGTH} expected (22 of salt, 31 of hash)` };
  }
  const cost = Number(match[1]);
  if (cost > WORK_LIMITS.bcryptCost) return tooHeavy(`bcrypt cost ${cost} is above FAMOS's limit of ${WORK_LIMITS.bcryptCost}`);
  // $2y$ (PHP's crypt_blowfish) and $2b$ (OpenBSD) name the same corrected algorithm, and $2a$
  // agrees with both on every password shorter than 255 bytes; one spelling keeps one code path.
  return { kind: "bcrypt", cost, hash: stored.replace(/^\$2y\$/, "$2b$") };
}

function parsePbkdf2(stored: string): HashInspection {
  const match = PBKDF2_SHA256.exec(stored);
  if (match === null) return MALFORMED;
  const [, iterationsText = "", salt = "", encoded = ""] = match;
  const iterations = Number(iterationsText);
  const hash = Buffer.from(encoded, "base64");
  // Node's decoder skips what it cannot read, so only a value that encodes back to the same text
  // is valid base64. An empty or tiny hash would match almost any password: demand 16 to 64 bytes
  // (Django writes 32, the SHA-256 output size).
  if (hash.toString("base64") !== encoded) return MALFORMED;
  if (hash.length < PBKDF2_DIGEST_BYTES.min || hash.length > PBKDF2_DIGEST_BYTES.max) {
    return { kind: "malformed", lengthReason: `this pbkdf2_sha256 hash's digest is ${hash.length} bytes, FAMOS takes ${PBKDF2_DIGEST_BYTES.min} to ${PBKDF2_DIGEST_BYTES.max} (Django writes 32)` };
  }
  if (iterations > WORK_LIMITS.pbkdf2Iterations) {
    return tooHeavy(`PBKDF2 ${iterations.toLocaleString("en-GB")} iterations are above FAMOS's limit of ${WORK_LIMITS.pbkdf2Iterations.toLocaleString("en-GB")}`);
  }
  return { kind: "pbkdf2_sha256", iterations, salt, hash };
}

/**
 * The format of a stored hash as the CSV importer (`famos user import`) accepts it, without
 * verifying anything; null for anything else, including argon2i and argon2d, which the import
 * format does not list, and hashes over WORK_LIMITS, which could not be verified.
 */
export function describeHashFormat(stored: string): "argon2id" | "bcrypt" | "pbkdf2_sha256" | null {
  const checked = checkImportedHash(stored);
  return checked.ok ? checked.format : null;
}

/** The importer's verdict on one `password_hash` field, with the reason when it is refused. */
export function checkImportedHash(stored: string): { ok: true; format: "argon2id" | "bcrypt" | "pbkdf2_sha256" } | { ok: false; reason: string } {
  const inspected = inspectStoredHash(stored);
  if (inspected.kind === "too-heavy") return { ok: false, reason: `password_hash: ${inspected.reason}` };
  if (inspected.kind === "malformed" && inspected.lengthReason !== undefined) return { ok: false, reason: `password_hash: ${inspected.lengthReason}` };
  if (inspected.kind === "malformed" || (inspected.kind === "argon2" && inspected.variant !== "argon2id")) {
    return { ok: false, reason: "password_hash is not an argon2id PHC string, a bcrypt hash ($2a$, $2b$, $2y$) or pbkdf2_sha256$<iterations>$<salt>$<hash>" };
  }
  return { ok: true, format: inspected.kind === "argon2" ? "argon2id" : inspected.kind };
}
