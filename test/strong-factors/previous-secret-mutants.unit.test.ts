import { afterEach, describe, expect, it } from "vitest";
import { deriveKeys, hmacHex, type Keys } from "../../src/platform/keys.ts";
import type { Random } from "../../src/platform/random.ts";
import { openSecret, sealSecret } from "../../src/strong-factors/secret-box.ts";
import {
  appSealed,
  appsText,
  lostText,
  pastDeadlineText,
  PREVIOUS_SECRET_DAYS,
  previousSecretDeadline,
  previousSecretReport,
  sealedSecretsToTell,
} from "../../src/strong-factors/previous-secret.ts";
import { serversRunKeys, loginDigestKeyFingerprint } from "../../src/users/login-digest.ts";
import { keepFingerprint } from "../../src/store/key-fingerprints.ts";
import { addUser } from "../support/app.ts";
import { createUnitDeps } from "../support/unit-app.ts";

const OLD = Buffer.alloc(32, 0x11);
const NEW = Buffer.alloc(32, 0x22);
const THIRD = Buffer.alloc(32, 0x33);
const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const DAY = 86_400_000;
const random: Random = { bytes: (n) => Buffer.alloc(n, 9), int: () => 0 };

/**
 * What FAMOS_SECRET_PREVIOUS still opens and the start's look (src/strong-factors/previous-secret.ts), and
 * reseal's question whether the servers run this FAMOS_SECRET (serversRunKeys, src/users/login-digest.ts),
 * each over a fresh in-memory SQLite (the report reads every app). The integration tests
 * (secret-previous-start, secret-rotation) reach these through serve and the CLI; no unit file did (run C15).
 */
describe("FAMOS_SECRET_PREVIOUS's report and the start's look (unit tier)", () => {
  let closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing) await close();
    closing = [];
  });
  async function store() {
    const unit = await createUnitDeps();
    closing.push(unit.close);
    const db = unit.deps.db;
    const app = async (under: Buffer, id?: string) => {
      const user = await addUser(unit.deps, { email: null, ...(id ? { loginId: id } : {}) });
      await db.insertInto("authenticator_apps").values({ user_id: user.id, secret: sealSecret(deriveKeys(under).totpSecret, random, user.id, SECRET), created_at: 0, confirmed_at: 0, last_step: null, last_used_at: null }).execute();
      return user.id;
    };
    const code = async (userId: string, created_at: number, used_at: number | null) =>
      db.insertInto("recovery_codes").values({ id: `${userId}-${created_at}-${used_at}`, user_id: userId, code_hash: `${userId}-${created_at}-${used_at}`, created_at, used_at }).execute();
    return { unit, db, app, code };
  }
  const report = (db: Awaited<ReturnType<typeof store>>["db"], keys: Keys, now: number, options = { reseal: false, record: false }) => previousSecretReport(db, keys, random, now, options);

  it("counts apps only the old key opens and those neither opens; reseal seals the first again under the new key, once", async () => {
    const { db, app } = await store();
    const keys = deriveKeys(NEW, OLD);
    await app(NEW);
    const olds = [await app(OLD), await app(OLD)];
    await app(THIRD);
    expect(await report(db, keys, 1)).toEqual({ apps: 2, lost: 1, recoveryCodes: null });
    expect(await report(db, keys, 1)).toEqual({ apps: 2, lost: 1, recoveryCodes: null });
    expect(await report(db, keys, 1, { reseal: true, record: false })).toEqual({ apps: 2, lost: 1, recoveryCodes: null });
    for (const id of olds) {
      const row = await db.selectFrom("authenticator_apps").select("secret").where("user_id", "=", id).executeTakeFirstOrThrow();
      expect(openSecret(keys.totpSecret, id, row.secret)).toBe(SECRET);
    }
    expect(await report(db, keys, 1, { reseal: true, record: false })).toEqual({ apps: 0, lost: 1, recoveryCodes: null });
    // Resealed, no app opens under the old secret alone any more.
    expect(await report(db, deriveKeys(OLD), 1)).toEqual({ apps: 0, lost: 4, recoveryCodes: null });
  });

  it("a look that only counts (reseal: false, doctor and the start's) opens each app and seals nothing: no IV drawn; reseal draws one per app it seals", async () => {
    const { db, app } = await store();
    await app(NEW);
    await app(OLD);
    await app(OLD);
    await app(THIRD);
    let drawn = 0;
    const counting: Random = { bytes: (n) => ((drawn += 1), Buffer.alloc(n, 9)), int: () => 0 };
    const keys = deriveKeys(NEW, OLD);
    expect(await previousSecretReport(db, keys, counting, 1, { reseal: false, record: true })).toMatchObject({ apps: 2, lost: 1 });
    expect(await sealedSecretsToTell(db, "sqlite", keys, counting, 1)).toMatchObject({ apps: 2, lost: 1 });
    expect(drawn).toBe(0);
    expect(await previousSecretReport(db, keys, counting, 1, { reseal: true, record: false })).toMatchObject({ apps: 2, lost: 1 });
    expect(drawn).toBe(2);
  });

  it("reads every app, page after page (more than one page of 200)", async () => {
    const { db, app } = await store();
    for (let i = 0; i < 201; i++) await app(OLD);
    await app(THIRD);
    expect(await report(db, deriveKeys(NEW, OLD), 1)).toEqual({ apps: 201, lost: 1, recoveryCodes: null });
  }, 60_000);

  it("the change is recorded once, when asked; unused codes issued before it are counted, and their users", async () => {
    const { unit, db, code } = await store();
    const [a, b] = [(await addUser(unit.deps, { email: null })).id, (await addUser(unit.deps, { email: null })).id];
    const T = 10 * DAY;
    await code(a, T - 2, null);
    await code(a, T - 1, null);
    await code(b, T - 1, null);
    await code(b, T - 1, T - 1 + 5);
    await code(b, T, null);
    const keys = deriveKeys(NEW, OLD);
    expect((await report(db, keys, T)).recoveryCodes).toBeNull();
    expect((await report(db, keys, T, { reseal: false, record: true })).recoveryCodes).toEqual({ since: T, codes: 3, users: 2 });
    // Seen already: later looks keep the first day, recorded or not.
    expect((await report(db, keys, T + DAY, { reseal: false, record: true })).recoveryCodes).toEqual({ since: T, codes: 3, users: 2 });
    expect((await report(db, keys, T + DAY)).recoveryCodes?.since).toBe(T);
    // Without FAMOS_SECRET_PREVIOUS nothing of a change; another new secret is a change of its own.
    expect((await report(db, deriveKeys(NEW), T + DAY, { reseal: false, record: true })).recoveryCodes).toBeNull();
    expect((await report(db, deriveKeys(THIRD, NEW), T + 2 * DAY)).recoveryCodes).toBeNull();
    expect((await report(db, deriveKeys(THIRD, NEW), T + 2 * DAY, { reseal: false, record: true })).recoveryCodes?.since).toBe(T + 2 * DAY);
  });

  it("the 30 days: no words until they are past, then the unused codes counted in words", () => {
    const since = 5 * DAY;
    const deadline = since + PREVIOUS_SECRET_DAYS * DAY;
    expect(PREVIOUS_SECRET_DAYS).toBe(30);
    const one = { apps: 0, lost: 0, recoveryCodes: { since, codes: 1, users: 1 } };
    expect(previousSecretDeadline(one)).toBe(deadline);
    expect(previousSecretDeadline({ apps: 0, lost: 0, recoveryCodes: null })).toBeNull();
    expect(pastDeadlineText({ apps: 0, lost: 0, recoveryCodes: null }, deadline + DAY)).toBeNull();
    expect(pastDeadlineText(one, deadline)).toBeNull();
    expect(pastDeadlineText(one, deadline + 1)).toBe(
      `FAMOS_SECRET_PREVIOUS is still set more than 30 days after the change (${new Date(since).toISOString()}): remove it (1 unused recovery code issued before then, under either secret: those under the old one then stop working)`,
    );
    expect(pastDeadlineText({ ...one, recoveryCodes: { since, codes: 4, users: 2 } }, deadline + 1)).toContain("(4 unused recovery codes issued before then");
    expect(appsText(1)).toBe("1 authenticator app's secret");
    expect(appsText(3)).toBe("3 authenticator apps' secrets");
    expect(lostText(1)).toBe("1 authenticator app's secret opens under neither FAMOS_SECRET nor FAMOS_SECRET_PREVIOUS: set FAMOS_SECRET_PREVIOUS to the secret it was made under and run famos reseal, or have support remove it");
    expect(lostText(2)).toBe("2 authenticator apps' secrets open under neither FAMOS_SECRET nor FAMOS_SECRET_PREVIOUS: set FAMOS_SECRET_PREVIOUS to the secret they were made under and run famos reseal, or have support remove them");
  });

  it("the start's look: read until every app opens under FAMOS_SECRET, then one read; a seal under another key reads them again", async () => {
    const { db, app } = await store();
    const keys = deriveKeys(NEW);
    await app(NEW);
    expect(await sealedSecretsToTell(db, "sqlite", keys, random, 1)).toEqual({ apps: 0, lost: 0, recoveryCodes: null });
    expect(await sealedSecretsToTell(db, "sqlite", keys, random, 1)).toBeNull();
    // With FAMOS_SECRET_PREVIOUS set the look always reports.
    expect(await sealedSecretsToTell(db, "sqlite", deriveKeys(NEW, OLD), random, 1)).toMatchObject({ apps: 0, lost: 0 });
    // An instance under another secret sealed an app: read again; one lost is told at every start.
    await db.transaction().execute((tx) => appSealed(tx, deriveKeys(THIRD)));
    await app(THIRD);
    expect(await sealedSecretsToTell(db, "sqlite", keys, random, 1)).toEqual({ apps: 0, lost: 1, recoveryCodes: null });
    expect(await sealedSecretsToTell(db, "sqlite", keys, random, 1)).toEqual({ apps: 0, lost: 1, recoveryCodes: null });
    // A seal under this key forgets nothing of it.
    await db.deleteFrom("authenticator_apps").execute();
    await app(NEW);
    expect(await sealedSecretsToTell(db, "sqlite", keys, random, 1)).toEqual({ apps: 0, lost: 0, recoveryCodes: null });
    await db.transaction().execute((tx) => appSealed(tx, keys));
    expect(await sealedSecretsToTell(db, "sqlite", keys, random, 1)).toBeNull();
  });

  it("the start's look records the change, and ends its pass only when no app is left under the old key or none", async () => {
    const { db, app } = await store();
    const T = 3 * DAY;
    await app(OLD);
    expect(await sealedSecretsToTell(db, "sqlite", deriveKeys(NEW, OLD), random, T)).toEqual({ apps: 1, lost: 0, recoveryCodes: { since: T, codes: 0, users: 0 } });
    // FAMOS_SECRET_PREVIOUS dropped before a reseal: the app is read again, and told as lost.
    expect(await sealedSecretsToTell(db, "sqlite", deriveKeys(NEW), random, T)).toEqual({ apps: 0, lost: 1, recoveryCodes: null });
  });

  it("the marks it keeps in key_fingerprints are read as earlier versions wrote them (names, fingerprints, `<fingerprint>@<ms>`)", async () => {
    const { db, app } = await store();
    const keys = deriveKeys(NEW, OLD);
    const T = 10 * DAY;
    const marks = async () => Object.fromEntries((await db.selectFrom("key_fingerprints").select(["purpose", "fingerprint"]).execute()).map((r) => [r.purpose, r.fingerprint]));
    const change = hmacHex(keys.recoveryCode, "fingerprint of the key recovery codes are hashed under");
    await keepFingerprint(db, "secret-change", `${change}@${T - DAY}`);
    expect((await report(db, keys, T, { reseal: false, record: true })).recoveryCodes?.since).toBe(T - DAY);
    // A mark without its moment is none: the change is recorded now.
    await keepFingerprint(db, "secret-change", change);
    expect((await report(db, keys, T, { reseal: false, record: true })).recoveryCodes?.since).toBe(T);
    expect((await marks())["secret-change"]).toBe(`${change}@${T}`);
    const sealed = hmacHex(keys.totpSecret, "fingerprint of the key app secrets are sealed under");
    await app(THIRD);
    await sealedSecretsToTell(db, "sqlite", deriveKeys(NEW), random, T);
    expect(await marks()).toMatchObject({ "app-secret-next": sealed });
    expect(await marks()).not.toHaveProperty("app-secret");
    await db.deleteFrom("authenticator_apps").execute();
    await sealedSecretsToTell(db, "sqlite", deriveKeys(NEW), random, T);
    expect(await marks()).toMatchObject({ "app-secret": sealed });
    expect(await marks()).not.toHaveProperty("app-secret-next");
  });

  it("serversRunKeys (reseal's refusal): null before any start, \"this\" only when the digest key kept and the one being made are this one's, \"unfinished\" while a start under it has not confirmed its pass", async () => {
    const { db } = await store();
    await db.deleteFrom("key_fingerprints").where("purpose", "in", ["login-digest", "login-digest-next"]).execute();
    const mine = deriveKeys(NEW);
    const theirs = loginDigestKeyFingerprint(deriveKeys(OLD));
    expect(await serversRunKeys(db, mine)).toBeNull();
    await keepFingerprint(db, "login-digest-next", loginDigestKeyFingerprint(mine));
    expect(await serversRunKeys(db, mine)).toBe("unfinished");
    await keepFingerprint(db, "login-digest", theirs);
    expect(await serversRunKeys(db, mine)).toBe("unfinished");
    await keepFingerprint(db, "login-digest", loginDigestKeyFingerprint(mine));
    expect(await serversRunKeys(db, mine)).toBe("this");
    await keepFingerprint(db, "login-digest-next", theirs);
    expect(await serversRunKeys(db, mine)).toBe("another");
    expect(await serversRunKeys(db, deriveKeys(OLD))).toBe("unfinished");
    await db.deleteFrom("key_fingerprints").where("purpose", "=", "login-digest-next").execute();
    expect(await serversRunKeys(db, mine)).toBe("this");
    expect(await serversRunKeys(db, deriveKeys(OLD))).toBe("another");
  });
});
