import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "otplib";
import { deriveKeys } from "../../src/platform/keys.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { createSession } from "../../src/session/sessions.ts";
import { startAppSetup } from "../../src/strong-factors/authenticator-app.ts";
import { issueRecoveryCodes, normaliseRecoveryCode } from "../../src/strong-factors/recovery-codes.ts";
import { openSecret, sealSecret } from "../../src/strong-factors/secret-box.ts";
import { timeStep, verifyTotp } from "../../src/strong-factors/totp.ts";
import { addUser } from "../support/app.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // RFC 6238 appendix B's key, "12345678901234567890", in base32
const T = 1_111_111_109_000; // RFC 6238 appendix B: 07081804 (8 digits) at this time; 6 digits: 081804

describe("RFC 6238 check (unit)", () => {
  it("matches the RFC's test vector (SHA-1, last 6 digits)", async () => {
    expect(await generate({ secret: SECRET, epoch: T / 1000 })).toBe("081804");
    expect(await verifyTotp(SECRET, "081804", T, null)).toEqual({ kind: "ok", step: timeStep(T) });
  });

  it("accepts one step of drift either way and refuses two", async () => {
    for (const [offset, kind] of [[-2, "wrong"], [-1, "ok"], [0, "ok"], [1, "ok"], [2, "wrong"]] as const) {
      const code = await generate({ secret: SECRET, epoch: Math.floor((T + offset * 30_000) / 1000) });
      expect((await verifyTotp(SECRET, code, T, null)).kind, `${offset}`).toBe(kind);
    }
  });

  it("calls a code of a step at or below the last accepted one used", async () => {
    const code = await generate({ secret: SECRET, epoch: T / 1000 });
    expect((await verifyTotp(SECRET, code, T, timeStep(T))).kind).toBe("used");
    expect((await verifyTotp(SECRET, code, T, timeStep(T) + 1)).kind).toBe("used");
    expect((await verifyTotp(SECRET, code, T, timeStep(T) - 1)).kind).toBe("ok");
  });

  it("normalises typed recovery codes and refuses what cannot be one", () => {
    expect(normaliseRecoveryCode(" ABCDE-fghjk ")).toBe("abcdefghjk");
    for (const bad of ["", "abcde", "abcde-fghjkl", "abcde-fghi1", "ab<de-fghjk"]) expect(normaliseRecoveryCode(bad)).toBeNull();
  });
});

describe("the keys of issue 13: what is stored changes with FAMOS_SECRET", () => {
  const a = deriveKeys(Buffer.alloc(32, 0xa1));
  const b = deriveKeys(Buffer.alloc(32, 0xb2));

  it("derives the TOTP-secret and recovery-code keys apart from each other and from the others", () => {
    const all = [a.code, a.cookie, a.device, a.totpSecret, a.recoveryCode].map((k) => k.toString("hex"));
    expect(new Set(all).size).toBe(5);
    expect(a.totpSecret.equals(b.totpSecret)).toBe(false);
    expect(a.recoveryCode.equals(b.recoveryCode)).toBe(false);
  });

  it("a sealed app secret opens only under its own key and for its own user", () => {
    const sealed = sealSecret(a.totpSecret, cryptoRandom, "user-1", SECRET);
    expect(sealed).not.toContain(SECRET);
    expect(openSecret(a.totpSecret, "user-1", sealed)).toBe(SECRET);
    expect(openSecret(b.totpSecret, "user-1", sealed)).toBeNull();
    expect(openSecret(a.totpSecret, "user-2", sealed)).toBeNull();
    expect(openSecret(a.totpSecret, "user-1", "v1:garbage")).toBeNull();
  });

  describe("stored rows under two secrets", () => {
    let x: UnitApp;
    let y: UnitApp;
    beforeAll(async () => {
      x = await createUnitApp();
      y = await createUnitApp({ env: { FAMOS_SECRET: "b".repeat(64) } });
    });
    afterAll(async () => {
      await x.close();
      await y.close();
    });

    it("the same recovery codes of the same user are stored as different hashes", async () => {
      const ux = await addUser(x.deps, { loginId: "same" });
      // The same codes for the same user id both times: only the key differs.
      const fixed = { bytes: cryptoRandom.bytes, int: () => 3 };
      const codesX = await issueRecoveryCodes(x.deps.db, { ...x.deps, random: fixed }, ux.id);
      const codesY = await issueRecoveryCodes(y.deps.db, { ...y.deps, random: fixed }, ux.id);
      expect(codesX.codes).toEqual(codesY.codes);
      const hx = await x.deps.db.selectFrom("recovery_codes").select("code_hash").where("user_id", "=", ux.id).execute();
      const hy = await y.deps.db.selectFrom("recovery_codes").select("code_hash").where("user_id", "=", ux.id).execute();
      expect(hx[0]!.code_hash).not.toBe(hy[0]!.code_hash);
    });

    it("an app secret sealed under one FAMOS_SECRET does not open under another", async () => {
      const user = await addUser(x.deps);
      const { session } = await createSession(x.deps.db, x.deps.random, x.deps.clock.now(), x.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
      expect(await startAppSetup(x.deps, user, session, { ip: "192.0.2.1", userAgent: "unit" })).toEqual({ kind: "started" });
      const row = await x.deps.db.selectFrom("authenticator_apps").select("secret").where("user_id", "=", user.id).executeTakeFirstOrThrow();
      expect(openSecret(x.deps.keys.totpSecret, user.id, row.secret)).toMatch(/^[A-Z2-7]{32}$/);
      expect(openSecret(y.deps.keys.totpSecret, user.id, row.secret)).toBeNull();
    });
  });
});
