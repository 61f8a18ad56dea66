import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { hmacHex } from "../../src/platform/keys.ts";
import type { Random } from "../../src/platform/random.ts";
import {
  formatRecoveryCode,
  issueRecoveryCodes,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeFactor,
  recoveryCodesLeft,
} from "../../src/strong-factors/recovery-codes.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/**
 * Recovery codes (src/strong-factors/recovery-codes.ts, NIST SP 800-63B 5.1.2 look-up secrets): ten
 * random codes of ten symbols, stored only as an HMAC bound to the user, each good once, counted,
 * and a new set voids the old. Over in-memory SQLite and a fixed clock.
 */
describe("recovery codes (unit)", () => {
  const unit = useUnitDeps();
  const db = () => unit.db;
  const issue = (userId: string, deps = unit.deps) => db().transaction().execute((tx) => issueRecoveryCodes(tx, deps, userId));
  const rows = (userId: string) => db().selectFrom("recovery_codes").selectAll().where("user_id", "=", userId).execute();
  const use = async (factor: ReturnType<typeof recoveryCodeFactor>, now = unit.now()) => {
    const verdict = await factor.verify(now);
    if (verdict.kind !== "ok") return verdict.kind;
    const consumed = await db().transaction().execute((tx) => factor.consume(tx, now));
    return consumed === "consumed" ? "ok" : consumed;
  };
  const mailsOf = (userId: string) => db().selectFrom("outbox").select(["recipient", "text_body"]).where("user_id", "=", userId).where("kind", "=", "notice.recovery-code-used").orderBy(sql`rowid`).execute();

  it("shows a code as two groups of five, and reads it back however it was typed", () => {
    expect(formatRecoveryCode("abcdefghjk")).toBe("abcde-fghjk");
    expect(normaliseRecoveryCode(formatRecoveryCode("abcdefghjk"))).toBe("abcdefghjk");
    expect(normaliseRecoveryCode("ABCDE FGHJK")).toBe("abcdefghjk");
    expect(normaliseRecoveryCode("\tab-cd-ef gh jk\n")).toBe("abcdefghjk");
    expect(normaliseRecoveryCode("23456-789zz")).toBe("23456789zz");
    // The symbols left out (0, 1, i, l, o) and anything else are refused, wherever they stand.
    for (const bad of ["abcde-fghj0", "0bcde-fghjk", "abcde-fghjo", "abcdi-fghjk", "abcde_fghjk", "abcde.fghjk", "abcdefghjkm", "abcdefghj"]) {
      expect(normaliseRecoveryCode(bad), bad).toBeNull();
    }
  });

  it("issues ten codes of ten symbols from the injected randomness, each read back as typed from paper, stored only as the user's HMAC, unused", async () => {
    const user = await addUser(unit.deps);
    const asked: number[] = [];
    let next = 0;
    const counting: Random = { bytes: unit.deps.random.bytes, int: (max) => (asked.push(max), next++ % max) };
    const { codes } = await issue(user.id, { ...unit.deps, random: counting });
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(asked).toEqual(Array(100).fill(ALPHABET.length));
    expect(codes[0]).toBe(ALPHABET.slice(0, 10));
    expect(codes[3]).toBe(ALPHABET.slice(30) + ALPHABET.slice(0, 9));
    for (const code of codes) expect(normaliseRecoveryCode(formatRecoveryCode(code))).toBe(code);
    const stored = await rows(user.id);
    expect(stored.map((r) => r.code_hash).sort()).toEqual(codes.map((c) => hmacHex(unit.deps.keys.recoveryCode, `${user.id}:${c}`)).sort());
    expect(new Set(stored.map((r) => r.id)).size).toBe(10);
    for (const r of stored) expect(r).toMatchObject({ created_at: unit.now(), used_at: null });
    expect(await recoveryCodesLeft(db(), user.id)).toBe(10);
  });

  it("each code works once; the count falls; the OTP address is told how many remain, or none", async () => {
    const user = await addUser(unit.deps, { email: "left@dealer.example" });
    const { codes } = await issue(user.id);
    expect(await use(recoveryCodeFactor(unit.deps, user, codes[0]!))).toBe("ok");
    expect(await recoveryCodesLeft(db(), user.id)).toBe(9);
    const used = (await rows(user.id)).filter((r) => r.used_at !== null);
    expect(used.map((r) => r.used_at)).toEqual([unit.now()]);
    // Refused at the check already (a reuse, told as one), not only by the conditional write.
    expect(await recoveryCodeFactor(unit.deps, user, codes[0]!).verify(unit.now())).toEqual({ kind: "used" });
    expect(await use(recoveryCodeFactor(unit.deps, user, codes[0]!))).toBe("used");
    expect(await recoveryCodesLeft(db(), user.id)).toBe(9);
    let mails = await mailsOf(user.id);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.recipient).toBe("left@dealer.example");
    expect(mails[0]!.text_body).toContain("You have 9 recovery codes left.");
    for (const code of codes.slice(1)) expect(await use(recoveryCodeFactor(unit.deps, user, code))).toBe("ok");
    expect(await recoveryCodesLeft(db(), user.id)).toBe(0);
    mails = await mailsOf(user.id);
    expect(mails).toHaveLength(10);
    expect(mails.at(-2)!.text_body).toContain("You have 1 recovery code left.");
    expect(mails.at(-1)!.text_body).toContain("You have no recovery codes left");
  });

  it("a code made up, or another user's, is wrong; one user's use leaves the other's codes and count alone", async () => {
    const a = await addUser(unit.deps);
    const b = await addUser(unit.deps);
    const codesA = (await issue(a.id)).codes;
    const codesB = (await issue(b.id)).codes;
    const madeUp = codesA[0] === "abcdefghjk" ? "bcdefghjka" : "abcdefghjk";
    expect(await use(recoveryCodeFactor(unit.deps, a, madeUp))).toBe("wrong");
    expect(await use(recoveryCodeFactor(unit.deps, a, codesB[0]!))).toBe("wrong");
    expect(await use(recoveryCodeFactor(unit.deps, b, codesA[0]!))).toBe("wrong");
    expect(await use(recoveryCodeFactor(unit.deps, a, codesA[0]!))).toBe("ok");
    expect(await recoveryCodesLeft(db(), a.id)).toBe(9);
    expect(await recoveryCodesLeft(db(), b.id)).toBe(10);
    expect(await use(recoveryCodeFactor(unit.deps, b, codesB[0]!))).toBe("ok");
  });

  it("a new set voids the whole old one, used or not, and only this user's", async () => {
    const user = await addUser(unit.deps);
    const other = await addUser(unit.deps);
    const old = (await issue(user.id)).codes;
    await issue(other.id);
    expect(await use(recoveryCodeFactor(unit.deps, user, old[0]!))).toBe("ok");
    const fresh = (await issue(user.id)).codes;
    expect(await rows(user.id)).toHaveLength(10);
    expect(await recoveryCodesLeft(db(), user.id)).toBe(10);
    for (const code of old.slice(0, 3)) expect(await use(recoveryCodeFactor(unit.deps, user, code))).toBe("wrong");
    expect(await rows(other.id)).toHaveLength(10);
    expect(await use(recoveryCodeFactor(unit.deps, user, fresh[0]!))).toBe("ok");
  });

  it("a user without an OTP address uses a code and is mailed nothing", async () => {
    const user = await addUser(unit.deps, { email: null });
    const { codes } = await issue(user.id);
    expect(await use(recoveryCodeFactor(unit.deps, user, codes[0]!))).toBe("ok");
    expect(await recoveryCodesLeft(db(), user.id)).toBe(9);
    expect(await db().selectFrom("outbox").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
  });

  it("names its audit events and metrics as the recovery code's", async () => {
    const user = await addUser(unit.deps);
    const factor = recoveryCodeFactor(unit.deps, user, "abcdefghjk");
    expect(factor.failed({ kind: "wrong" })).toEqual({ event: "recovery-code.failed", detail: {} });
    expect(factor.confirmed).toEqual({ event: "recovery-code.used", detail: {} });
    expect(factor.reused).toEqual({ event: "recovery-code.reused", detail: {} });
    expect(factor.tellReuse).toBe("recovery");
    const count = async (outcome: string) => (await unit.deps.metrics.strongFactorChecks.get()).values.find((v) => v.labels.factor === "recovery-code" && v.labels.outcome === outcome)?.value ?? 0;
    const [failed, ok] = [await count("failed"), await count("ok")];
    factor.metrics!.failed();
    factor.metrics!.confirmed();
    factor.metrics!.confirmed();
    expect([await count("failed"), await count("ok")]).toEqual([failed + 1, ok + 2]);
  });
});
