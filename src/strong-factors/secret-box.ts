import { createCipheriv, createDecipheriv } from "node:crypto";
import type { Keys } from "../platform/keys.ts";
import type { Random } from "../platform/random.ts";

const VERSION = "v1";

/**
 * An authenticator app's secret, sealed with AES-256-GCM under a key derived from FAMOS_SECRET
 * (keys.totpSecret), so a copy of the database alone yields no secret to generate codes with
 * (ASVS 2.9.2: the OTP verifier's secret protected at rest). The user's id is the associated data:
 * a sealed secret moved to another user's row does not open.
 */
export function sealSecret(key: Buffer, random: Random, userId: string, secret: string): string {
  const iv = random.bytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(userId, "utf8"));
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
}

/** The secret, or null when the value was not sealed for this user under this key (tampered, moved, another FAMOS_SECRET). */
export function openSecret(key: Buffer, userId: string, sealed: string): string | null {
  const [version, data] = sealed.split(":", 2);
  if (version !== VERSION || !data) return null;
  const bytes = Buffer.from(data, "base64url");
  if (bytes.length < 12 + 16 + 1) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(userId, "utf8"));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/**
 * The secret under keys.totpSecret, else (after a change of FAMOS_SECRET) under FAMOS_SECRET_PREVIOUS's key
 * (`previous`), opened only: nothing sealed (a look that counts, previousSecretReport). Null when neither opens it.
 */
export function openUnderEither(keys: Pick<Keys, "totpSecret" | "previous">, userId: string, sealed: string): { secret: string; previous: boolean } | null {
  const secret = openSecret(keys.totpSecret, userId, sealed);
  if (secret !== null) return { secret, previous: false };
  const old = keys.previous ? openSecret(keys.previous.totpSecret, userId, sealed) : null;
  return old === null ? null : { secret: old, previous: true };
}

/**
 * The secret as the sign-in reads it (openUnderEither), with `resealed` the secret the old key opened sealed
 * under keys.totpSecret for the caller to keep in its place (null when the new key opened it). Null when
 * neither opens it.
 */
export function openUnderKeys(keys: Pick<Keys, "totpSecret" | "previous">, random: Random, userId: string, sealed: string): { secret: string; resealed: string | null } | null {
  const opened = openUnderEither(keys, userId, sealed);
  if (opened === null) return null;
  return { secret: opened.secret, resealed: opened.previous ? sealSecret(keys.totpSecret, random, userId, opened.secret) : null };
}
