import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { enablesAgain } from "../../src/support/import-movers.ts";
import { importedHashDigest, importedPasswordChange, UNRECORDED } from "../../src/support/imported-password.ts";
import type { User } from "../../src/users/users.ts";

/**
 * The two decisions of `famos user import --update` as pure functions (the CLI tier's import-sync-mover
 * and import-reimport tests run them end to end): their decision tables, row by row.
 */
const BCRYPT_A = "$2b$04$abcdefghijklmnopqrstuu5kPWdcm0KZ3yQ1fKq9Q7z7a6jV4YbUa";
const BCRYPT_B = "$2b$04$bbcdefghijklmnopqrstuu5kPWdcm0KZ3yQ1fKq9Q7z7a6jV4YbUb";
const ARGON2 = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";

describe("enablesAgain: an import enables again only a mover a sync disabled", () => {
  const user = (disabled: number | null, syncPartner: string | null | undefined) => ({ disabled_at: disabled, sync_disabled_partner: syncPartner }) as User;
  const update = { update: true };

  it("enables an account a sync of partner A disabled when an --update row puts it at B (the partner number trimmed)", () => {
    expect(enablesAgain(user(1, "A"), { partnerNumber: "B" }, update)).toBe(true);
    expect(enablesAgain(user(1, "A"), { partnerNumber: " B " }, update)).toBe(true);
  });

  it("enables nobody on the same partner's row, the same padded with spaces included (no move)", () => {
    expect(enablesAgain(user(1, "A"), { partnerNumber: "A" }, update)).toBe(false);
    expect(enablesAgain(user(1, "A"), { partnerNumber: "  A " }, update)).toBe(false);
  });

  it("never undoes a person's disable (no partner recorded, null or absent), nor acts without --update or on an enabled account", () => {
    expect(enablesAgain(user(1, null), { partnerNumber: "B" }, update)).toBe(false);
    expect(enablesAgain(user(1, undefined), { partnerNumber: "B" }, update)).toBe(false);
    expect(enablesAgain(user(1, "A"), { partnerNumber: "B" }, { update: false })).toBe(false);
    expect(enablesAgain(user(null, "A"), { partnerNumber: "B" }, update)).toBe(false);
  });
});

describe("importedPasswordChange: a file's hash is a new password only when it differs from the last import's", () => {
  const account = (password_hash: string, imported_hash_digest: string | null | undefined) => ({ password_hash, imported_hash_digest }) as Pick<User, "password_hash" | "imported_hash_digest">;

  it("importedHashDigest is the SHA-256 of the file's string in hex, never the string", () => {
    expect(importedHashDigest(BCRYPT_A)).toBe(createHash("sha256").update(BCRYPT_A, "utf8").digest("hex"));
    expect(importedHashDigest(BCRYPT_A)).toMatch(/^[0-9a-f]{64}$/);
    expect(importedHashDigest("é")).toBe(createHash("sha256").update(Buffer.from([0xc3, 0xa9])).digest("hex"));
    expect(importedHashDigest(BCRYPT_A)).not.toBe(importedHashDigest(BCRYPT_B));
  });

  it("the same file hash as the last import's: nothing applied, nothing to record, even after sign-in upgraded or the person changed the stored one", () => {
    expect(importedPasswordChange(account(ARGON2, importedHashDigest(BCRYPT_A)), BCRYPT_A)).toEqual({ apply: false, record: null, notApplied: false });
    expect(importedPasswordChange(account(BCRYPT_B, importedHashDigest(BCRYPT_A)), BCRYPT_A)).toEqual({ apply: false, record: null, notApplied: false });
  });

  it("a file hash equal to the stored one but not recorded: not applied, recorded", () => {
    expect(importedPasswordChange(account(BCRYPT_A, null), BCRYPT_A)).toEqual({ apply: false, record: importedHashDigest(BCRYPT_A), notApplied: false });
    expect(importedPasswordChange(account(BCRYPT_A, importedHashDigest(BCRYPT_B)), BCRYPT_A)).toEqual({ apply: false, record: importedHashDigest(BCRYPT_A), notApplied: false });
  });

  it("a new file hash: applied and recorded, for an account an import gave another hash and for one no import gave any (null or absent)", () => {
    const applied = { apply: true, record: importedHashDigest(BCRYPT_B), notApplied: false };
    expect(importedPasswordChange(account(BCRYPT_A, importedHashDigest(BCRYPT_A)), BCRYPT_B)).toEqual(applied);
    expect(importedPasswordChange(account(ARGON2, importedHashDigest(BCRYPT_A)), BCRYPT_B)).toEqual(applied);
    expect(importedPasswordChange(account(ARGON2, null), BCRYPT_B)).toEqual(applied);
    expect(importedPasswordChange(account(ARGON2, undefined), BCRYPT_B)).toEqual(applied);
  });

  it("an account from before the record (UNRECORDED): an argon2 stored hash is kept and the file's recorded; a bcrypt one that differs is replaced", () => {
    expect(importedPasswordChange(account(ARGON2, UNRECORDED), BCRYPT_B)).toEqual({ apply: false, record: importedHashDigest(BCRYPT_B), notApplied: true });
    expect(importedPasswordChange(account(BCRYPT_A, UNRECORDED), BCRYPT_B)).toEqual({ apply: true, record: importedHashDigest(BCRYPT_B), notApplied: false });
  });
});
