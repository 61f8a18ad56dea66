import { createHash } from "node:crypto";
import { inspectStoredHash } from "../password/stored-hash.ts";
import type { User } from "../users/users.ts";

/**
 * The mark migration 029 gave every account already there: what an import last gave it is not known.
 * Never a digest (those are 64 hex digits).
 */
export const UNRECORDED = "unrecorded";

/**
 * What the import remembers of a hash it gave an account: the SHA-256 of the file's string, never the
 * string, as sign-in's upgrade to argon2id is there to drop the weak hash. Unkeyed on purpose: the string
 * is itself a salted hash (bcrypt's 128-bit salt, Django's salt), so its digest tells nothing of the
 * password to anyone without the file; and a key from FAMOS_SECRET (platform/keys.ts) would change when
 * the secret is rotated, making every account's file hash look new at the next run, the bug itself again.
 */
export function importedHashDigest(passwordHash: string): string {
  return createHash("sha256").update(passwordHash, "utf8").digest("hex");
}

/**
 * What `--update` does with a row's password_hash (`apply`: a new password, with its cut-off and notice,
 * as today) and the digest to store (`record`; null: the stored one is right). The one decision of the
 * import's writes (import-users.ts: added and `--resume` rows store importedHashDigest, updateUser asks this).
 *
 * The rule: the file's hash is a new password only when it differs from the hash the last import gave the
 * account, not from the stored one, which sign-in upgrades and Profile, "Forgot password?" and support
 * change without touching the record. An account no import gave a hash (null: made by `user add` or the
 * console since migration 029) takes the file's, as before. An account there before the record
 * (UNRECORDED, however it was made) takes it only when its
 * stored hash is not argon2 and differs from it: a bcrypt or PBKDF2 hash only an import stores, so it was
 * the last import's; an argon2 one may be sign-in's upgrade of the file's very hash or a password the
 * person chose, which putting the old hash back would revert, so the file's is recorded and not applied.
 */
export function importedPasswordChange(user: Pick<User, "password_hash" | "imported_hash_digest">, fileHash: string): ImportedPasswordChange {
  const digest = importedHashDigest(fileHash);
  const last = user.imported_hash_digest ?? null;
  if (last === digest) return { apply: false, record: null, notApplied: false };
  if (fileHash === user.password_hash) return { apply: false, record: digest, notApplied: false };
  if (last === UNRECORDED && inspectStoredHash(user.password_hash).kind === "argon2") return { apply: false, record: digest, notApplied: true };
  return { apply: true, record: digest, notApplied: false };
}

/**
 * importedPasswordChange's answer. `notApplied`: the file's hash differs from the stored one and is only
 * recorded (the UNRECORDED argon2 case), maybe a new password IT meant; the import tells how many
 * (cli/commands/user-import.ts), as the row itself counts "unchanged". Once: the next run knows the digest.
 */
export interface ImportedPasswordChange {
  apply: boolean;
  record: string | null;
  notApplied: boolean;
}
