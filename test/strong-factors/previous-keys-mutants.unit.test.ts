import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { deriveKeys, hmacHex } from "../../src/platform/keys.ts";
import type { Random } from "../../src/platform/random.ts";
import { issueRecoveryCodes, recoveryCodeFactor } from "../../src/strong-factors/recovery-codes.ts";
import { openSecret, openUnderKeys, sealSecret } from "../../src/strong-factors/secret-box.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const OLD = Buffer.alloc(32, 0x11);
const NEW = Buffer.alloc(32, 0x22);
const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const fixed = (fill: number): Random => ({ bytes: (n) => Buffer.alloc(n, fill), int: () => 0 });

/**
 * What FAMOS_SECRET_PREVIOUS's keys read (src/platform/keys.ts Keys.previous): an app's sealed secret
 * (openUnderKeys, src/strong-factors/secret-box.ts) and a recovery code's hash (recoveryCodeFactor's
 * old-key lookup and rehash, src/strong-factors/recovery-codes.ts), each kept under the new key at use.
 * The integration tests (secret-rotation.test) kill these through the browser; run C14 found none here.
 */
describe("FAMOS_SECRET_PREVIOUS's keys (unit tier)", () => {
  const unit = useUnitDeps();
  const withKeys = (secret: Buffer, previous: Buffer | null = null): Deps => ({ ...unit.deps, keys: deriveKeys(secret, previous) });
  const reads = async () => (await unit.deps.metrics.previousSecretReads.get()).values.find((v) => v.labels.what === "recovery-code")?.value ?? 0;
  const use = async (deps: Deps, user: Awaited<ReturnType<typeof addUser>>, code: string) => {
    const factor = recoveryCodeFactor(deps, user, code);
    const verdict = await factor.verify(unit.now());
    if (verdict.kind !== "ok") return verdict.kind;
    return (await unit.deps.db.transaction().execute((tx) => factor.consume(tx, unit.now()))) === "consumed" ? "ok" : "used";
  };
  const hashesOf = async (userId: string) => (await unit.deps.db.selectFrom("recovery_codes").select("code_hash").where("user_id", "=", userId).execute()).map((r) => r.code_hash);

  it("openUnderKeys: the new key's seal opens as it is; the old key's opens and comes back sealed under the new key; neither's is null", () => {
    const keys = deriveKeys(NEW, OLD);
    const underNew = sealSecret(keys.totpSecret, fixed(1), "user-1", SECRET);
    expect(openUnderKeys(keys, fixed(2), "user-1", underNew)).toEqual({ secret: SECRET, resealed: null });
    const underOld = sealSecret(deriveKeys(OLD).totpSecret, fixed(1), "user-1", SECRET);
    const opened = openUnderKeys(keys, fixed(3), "user-1", underOld);
    expect(opened?.secret).toBe(SECRET);
    // Sealed again under the new key, with the injected randomness's nonce, for this user only.
    expect(opened?.resealed).toBe(sealSecret(keys.totpSecret, fixed(3), "user-1", SECRET));
    expect(openSecret(keys.totpSecret, "user-1", opened!.resealed!)).toBe(SECRET);
    expect(openSecret(keys.previous!.totpSecret, "user-1", opened!.resealed!)).toBeNull();
    // Without FAMOS_SECRET_PREVIOUS the old seal opens under nothing; a third key's seal under neither.
    expect(openUnderKeys(deriveKeys(NEW), fixed(3), "user-1", underOld)).toBeNull();
    expect(openUnderKeys(keys, fixed(3), "user-1", sealSecret(deriveKeys(Buffer.alloc(32, 0x33)).totpSecret, fixed(1), "user-1", SECRET))).toBeNull();
    // Another user's old seal does not open as this user's (the id is the associated data under both keys).
    expect(openUnderKeys(keys, fixed(3), "user-2", underOld)).toBeNull();
  });

  it("a code issued under the old secret is wrong without FAMOS_SECRET_PREVIOUS, good once with it, then kept under the new key and counted", async () => {
    const user = await addUser(unit.deps, { email: null });
    const { codes } = await unit.deps.db.transaction().execute((tx) => issueRecoveryCodes(tx, withKeys(OLD), user.id));
    const code = codes[0]!;
    expect(await use(withKeys(NEW), user, code)).toBe("wrong");
    const before = await reads();
    expect(await use(withKeys(NEW, OLD), user, code)).toBe("ok");
    expect(await reads()).toBe(before + 1);
    const hashes = await hashesOf(user.id);
    expect(hashes).toContain(hmacHex(deriveKeys(NEW).recoveryCode, `${user.id}:${code}`));
    expect(hashes).not.toContain(hmacHex(deriveKeys(OLD).recoveryCode, `${user.id}:${code}`));
    // Used, under either set of keys now; the other nine stay under the old key until their use.
    expect(await use(withKeys(NEW), user, code)).toBe("used");
    expect(await use(withKeys(NEW, OLD), user, code)).toBe("used");
    expect(hashes.filter((h) => codes.slice(1).some((c) => h === hmacHex(deriveKeys(OLD).recoveryCode, `${user.id}:${c}`)))).toHaveLength(9);
    expect(await reads()).toBe(before + 1);
  });

  it("one old-key code checked by two requests at once: one use, the other told used, kept under the new key and counted once", async () => {
    const user = await addUser(unit.deps, { email: null });
    const { codes } = await unit.deps.db.transaction().execute((tx) => issueRecoveryCodes(tx, withKeys(OLD), user.id));
    const [first, second] = [recoveryCodeFactor(withKeys(NEW, OLD), user, codes[0]!), recoveryCodeFactor(withKeys(NEW, OLD), user, codes[0]!)];
    expect(await first.verify(unit.now())).toEqual({ kind: "ok" });
    expect(await second.verify(unit.now())).toEqual({ kind: "ok" });
    const before = await reads();
    expect(await unit.deps.db.transaction().execute((tx) => first.consume(tx, unit.now()))).toBe("consumed");
    expect(await unit.deps.db.transaction().execute((tx) => second.consume(tx, unit.now()))).toBe("used");
    expect(await reads()).toBe(before + 1);
  });

  it("a code issued under the new secret is used as it is beside FAMOS_SECRET_PREVIOUS: its hash unchanged, no old-key read counted", async () => {
    const user = await addUser(unit.deps, { email: null });
    const { codes } = await unit.deps.db.transaction().execute((tx) => issueRecoveryCodes(tx, withKeys(NEW), user.id));
    const before = await reads();
    const hashes = await hashesOf(user.id);
    expect(await use(withKeys(NEW, OLD), user, codes[0]!)).toBe("ok");
    expect(await hashesOf(user.id)).toEqual(hashes);
    expect(await reads()).toBe(before);
  });

  it("where the same code has a row under each key, the new key's row decides, whichever comes first", async () => {
    const newHash = (userId: string, code: string) => hmacHex(deriveKeys(NEW).recoveryCode, `${userId}:${code}`);
    const oldHash = (userId: string, code: string) => hmacHex(deriveKeys(OLD).recoveryCode, `${userId}:${code}`);
    const row = (userId: string, id: string, code_hash: string, used_at: number | null) => ({ id, user_id: userId, code_hash, created_at: unit.now(), used_at });
    const code = "abcdefghjk";
    // The old key's row used and first, the new key's unused: the code is good.
    const a = await addUser(unit.deps, { email: null });
    await unit.deps.db.insertInto("recovery_codes").values([row(a.id, `${a.id}-1`, oldHash(a.id, code), unit.now()), row(a.id, `${a.id}-2`, newHash(a.id, code), null)]).execute();
    expect(await use(withKeys(NEW, OLD), a, code)).toBe("ok");
    // The new key's row used and first, the old key's unused: the code was used.
    const b = await addUser(unit.deps, { email: null });
    await unit.deps.db.insertInto("recovery_codes").values([row(b.id, `${b.id}-1`, newHash(b.id, code), unit.now()), row(b.id, `${b.id}-2`, oldHash(b.id, code), null)]).execute();
    expect(await use(withKeys(NEW, OLD), b, code)).toBe("used");
    // The new key's row unused and first, the old key's used: good, and nothing to rehash.
    const c = await addUser(unit.deps, { email: null });
    await unit.deps.db.insertInto("recovery_codes").values([row(c.id, `${c.id}-1`, oldHash(c.id, code), unit.now()), row(c.id, `${c.id}-0`, newHash(c.id, code), null)]).execute();
    const before = await reads();
    expect(await use(withKeys(NEW, OLD), c, code)).toBe("ok");
    expect(await reads()).toBe(before);
  });
});
