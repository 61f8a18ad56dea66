import { describe, expect, it } from "vitest";
import { checkImportedHash, inspectStoredHash, WORK_LIMITS } from "../../src/password/stored-hash.ts";

/**
 * The stored-hash parser at the import boundary, case by case: every field at and just past its limit,
 * anchors at both ends, and the reasons an operator reads (mutation run W's survivors in stored-hash.ts).
 */
const SALT = "kUfG+XFPajE2z3M72YXRug";
const OUT = "FozWJ49jZ2yLntUBS3zpz2qR9PYH6rirlmL8X935J1w";
const argon2 = (params: string, variant = "argon2id") => `$${variant}$v=19$${params}$${SALT}$${OUT}`;
const BCRYPT_BODY = "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"; // 53 characters
const bcrypt = (cost: string, prefix = "$2b$") => `${prefix}${cost}$${BCRYPT_BODY}`;
const b64 = (bytes: number) => Buffer.alloc(bytes, 0xa5).toString("base64");
const pbkdf2 = (encoded: string, iterations = "1200000") => `pbkdf2_sha256$${iterations}$somesalt$${encoded}`;

describe("inspectStoredHash", () => {
  const cases: Array<[string, string, string]> = [
    ["argon2id at FAMOS's own settings", argon2("m=19456,t=2,p=1"), "argon2"],
    ["argon2 at the smallest memory for p=1 (m = 8p)", argon2("m=8,t=1,p=1"), "argon2"],
    ["argon2 at every limit", argon2(`m=${WORK_LIMITS.argon2MemoryKiB},t=${WORK_LIMITS.argon2TimeCost},p=${WORK_LIMITS.argon2Parallelism}`), "argon2"],
    ["argon2 memory one over", argon2(`m=${WORK_LIMITS.argon2MemoryKiB + 1},t=2,p=1`), "too-heavy"],
    ["argon2 t=5", argon2("m=19456,t=5,p=1"), "too-heavy"],
    ["argon2 t=10 (two digits)", argon2("m=19456,t=10,p=1"), "too-heavy"],
    ["argon2 p=17", argon2("m=19456,t=2,p=17"), "too-heavy"],
    ["argon2 p=100 (three digits)", argon2("m=19456,t=2,p=100"), "too-heavy"],
    ["argon2 m=10 digits", argon2("m=1000000000,t=2,p=1"), "too-heavy"],
    ["argon2 with something after the hash", `${argon2("m=19456,t=2,p=1")}!`, "malformed"],
    ["argon2 with a second PHC string after junk", `$argon2x$junk${argon2("m=19456,t=2,p=1")}`, "malformed"],
    ["argon2 m below 8p", argon2("m=7,t=2,p=1"), "malformed"],
    ["bcrypt cost 10", bcrypt("10"), "bcrypt"],
    ["bcrypt $2y$ cost 12", bcrypt("12", "$2y$"), "bcrypt"],
    ["bcrypt $2a$ cost 04", bcrypt("04", "$2a$"), "bcrypt"],
    ["bcrypt cost 13", bcrypt("13"), "too-heavy"],
    ["bcrypt cost 31", bcrypt("31"), "too-heavy"],
    ["bcrypt cost 32", bcrypt("32"), "malformed"],
    ["bcrypt cost 03", bcrypt("03"), "malformed"],
    ["bcrypt one character long", `${bcrypt("10")}x`, "malformed"],
    ["bcrypt behind a prefix of $2", `$2${bcrypt("10")}`, "malformed"],
    ["PBKDF2 of 32 bytes (Django's)", pbkdf2(b64(32)), "pbkdf2_sha256"],
    ["PBKDF2 of 48 bytes (no padding)", pbkdf2(b64(48)), "pbkdf2_sha256"],
    ["PBKDF2 of 16 bytes", pbkdf2(b64(16)), "pbkdf2_sha256"],
    ["PBKDF2 of 64 bytes", pbkdf2(b64(64)), "pbkdf2_sha256"],
    ["PBKDF2 of 15 bytes", pbkdf2(b64(15)), "malformed"],
    ["PBKDF2 of 65 bytes", pbkdf2(b64(65)), "malformed"],
    ["PBKDF2 whose base64 does not encode back (stray low bits)", pbkdf2(`${b64(32).slice(0, -2)}B=`), "malformed"],
    ["PBKDF2 with something after the hash", `${pbkdf2(b64(32))}!`, "malformed"],
    ["PBKDF2 at 1,500,000 iterations", pbkdf2(b64(32), "1500000"), "pbkdf2_sha256"],
    ["PBKDF2 at 1,500,001 iterations", pbkdf2(b64(32), "1500001"), "too-heavy"],
    ["anything else", "md5$abc", "malformed"],
  ];
  for (const [what, stored, kind] of cases) {
    it(`${what}: ${kind}`, () => expect(inspectStoredHash(stored).kind).toBe(kind));
  }

  it("keeps PBKDF2's fields, and spells $2y$ as $2b$", () => {
    expect(inspectStoredHash(pbkdf2(b64(32), "600000"))).toEqual({ kind: "pbkdf2_sha256", iterations: 600_000, salt: "somesalt", hash: Buffer.alloc(32, 0xa5) });
    expect(inspectStoredHash(bcrypt("12", "$2y$"))).toEqual({ kind: "bcrypt", cost: 12, hash: bcrypt("12", "$2b$") });
  });

  it("says which limit a heavy hash passes", () => {
    expect(inspectStoredHash(argon2("m=19456,t=2,p=17"))).toEqual({ kind: "too-heavy", reason: "argon2 p=17 is above FAMOS's limit of 16" });
    expect(inspectStoredHash(argon2("m=19456,t=5,p=1"))).toEqual({ kind: "too-heavy", reason: "argon2 t=5 is above FAMOS's limit of 4" });
  });
});

describe("checkImportedHash", () => {
  it("names the formats it takes when a hash is none of them", () => {
    const expected = { ok: false, reason: "password_hash is not an argon2id PHC string, a bcrypt hash ($2a$, $2b$, $2y$) or pbkdf2_sha256$<iterations>$<salt>$<hash>" };
    expect(checkImportedHash("md5$abc")).toEqual(expected);
    expect(checkImportedHash(argon2("m=19456,t=2,p=1", "argon2i"))).toEqual(expected);
    expect(checkImportedHash(argon2("m=19456,t=2,p=1"))).toEqual({ ok: true, format: "argon2id" });
    expect(checkImportedHash(bcrypt("13"))).toEqual({ ok: false, reason: "password_hash: bcrypt cost 13 is above FAMOS's limit of 12" });
  });

  it("says when a hash is in the right format but of the wrong length, not that the format is wrong", () => {
    expect(checkImportedHash("pbkdf2_sha256$1000000$salt$c2hvcnQ=")).toEqual({ ok: false, reason: "password_hash: this pbkdf2_sha256 hash's digest is 5 bytes, FAMOS takes 16 to 64 (Django writes 32)" });
    expect(checkImportedHash(pbkdf2(b64(15)))).toEqual({ ok: false, reason: "password_hash: this pbkdf2_sha256 hash's digest is 15 bytes, FAMOS takes 16 to 64 (Django writes 32)" });
    expect(checkImportedHash(pbkdf2(b64(65)))).toEqual({ ok: false, reason: "password_hash: this pbkdf2_sha256 hash's digest is 65 bytes, FAMOS takes 16 to 64 (Django writes 32)" });
    expect(checkImportedHash(pbkdf2(b64(32)))).toEqual({ ok: true, format: "pbkdf2_sha256" });
    expect(checkImportedHash(`${bcrypt("10")}x`)).toEqual({ ok: false, reason: "password_hash: this bcrypt hash has 54 characters after the cost, 53 expected (22 of salt, 31 of hash)" });
    expect(checkImportedHash("$2b$10$tooshort")).toEqual({ ok: false, reason: "password_hash: this bcrypt hash has 8 characters after the cost, 53 expected (22 of salt, 31 of hash)" });
    // Not base64, or not bcrypt's alphabet: still a format problem, with the formats named.
    const notFormat = "password_hash is not an argon2id PHC string, a bcrypt hash ($2a$, $2b$, $2y$) or pbkdf2_sha256$<iterations>$<salt>$<hash>";
    expect(checkImportedHash(pbkdf2(`${b64(32).slice(0, -2)}B=`))).toEqual({ ok: false, reason: notFormat });
    expect(checkImportedHash("$2b$10$has spaces")).toEqual({ ok: false, reason: notFormat });
    expect(checkImportedHash(`$2${bcrypt("10")}`)).toEqual({ ok: false, reason: notFormat });
  });
});
