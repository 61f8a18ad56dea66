import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPreviousSecret } from "../../src/doctor/previous-secret-check.ts";
import { checkSecondFactor } from "../../src/factors/check-second-factor.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { deriveKeys } from "../../src/platform/keys.ts";
import { appFactor } from "../../src/strong-factors/authenticator-app.ts";
import { issueRecoveryCodes } from "../../src/strong-factors/recovery-codes.ts";
import { openSecret, sealSecret } from "../../src/strong-factors/secret-box.ts";
import { lostText, previousSecretReport } from "../../src/strong-factors/previous-secret.ts";
import { keyedPassBegins } from "../../src/store/key-fingerprints.ts";
import { loginDigestKeyFingerprint, refreshLoginDigestsIfKeyChanged } from "../../src/users/login-digest.ts";
import { famosInProcess } from "../cli/famos-in-process.ts";
import { ERROR, loggerWithLines, WARN } from "../support/log-lines.ts";
import { addUser, createTestApp, TEST_SECRET, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";
import { addConfirmedApp, appCode, nextStep } from "./helpers.ts";

/**
 * FAMOS_SECRET_PREVIOUS as `famos serve`'s start and `famos reseal` handle it (README, "Changing
 * FAMOS_SECRET"; SECURITY.md known limit 22): the change is recorded at the first start that has it,
 * a start past the 30 days says so, an app sealed later under another key is told at the next start,
 * and reseal refuses a FAMOS_SECRET the servers do not run.
 */
const NEW_SECRET = "b".repeat(64);
const DAY = 86_400_000;
const ROLES = { FAMOS_STRONG_FACTOR_ROLES: "admin" };

describe.each(["sqlite", "postgres"] as const)("FAMOS_SECRET_PREVIOUS at start and reseal, on %s", (database) => {
  const clock = new FixedClock();
  let before: TestApp;
  const opened: TestApp[] = [];
  const after = async (env: Record<string, string>) => {
    const t = await createTestApp({ clock, env: { ...ROLES, FAMOS_DATABASE_URL: before.config.databaseUrl, FAMOS_SECRET: NEW_SECRET, ...env } });
    opened.push(t);
    return t;
  };
  /** What `famos serve` logs once it listens (src/app/sealed-secrets-start.ts). */
  async function startLog(t: TestApp) {
    const { tellSealedSecretsAfterStart } = await import("../../src/app/sealed-secrets-start.ts");
    const { logger, lines } = loggerWithLines();
    await tellSealedSecretsAfterStart(t.deps, logger);
    return lines.map((l) => [l.level, l.msg]);
  }
  /** What `famos serve` does at start with the login digests: keeps its key's fingerprint (src/app/login-digest-refresh.ts). */
  const serveStarted = (t: TestApp) => refreshLoginDigestsIfKeyChanged(t.deps.db, t.deps.keys, t.deps.dialect);
  const cli = (args: string[], env: Record<string, string>) => famosInProcess(args, { FAMOS_DATABASE_URL: before.config.databaseUrl, FAMOS_SECRET: NEW_SECRET, ...env });

  beforeAll(async () => {
    before = await createTestApp({ database, clock, env: ROLES });
  });
  afterAll(async () => {
    for (const t of opened.reverse()) await t.close();
    await before.close();
  });

  it("the first start with FAMOS_SECRET_PREVIOUS records the change; past 30 days the start log and doctor say to remove it", async () => {
    const u = await addUser(before.deps, { role: "admin" });
    await before.deps.db.transaction().execute((tx) => issueRecoveryCodes(tx, before.deps, u.id));
    clock.advance(60_000);
    const t = await after({ FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    const seen = clock.now();
    expect(await startLog(t)).toEqual([]);
    clock.advance(DAY);
    expect(await startLog(t)).toEqual([]);
    const report = await previousSecretReport(t.deps.db, t.deps.keys, t.deps.random, clock.now(), { reseal: false, record: false });
    expect(report.recoveryCodes).toEqual({ since: seen, codes: 10, users: 1 });
    expect(await checkPreviousSecret(t.config, () => clock.now())).toMatchObject({ status: "ok" });
    clock.advance(30 * DAY);
    const past = `FAMOS_SECRET_PREVIOUS is still set more than 30 days after the change (${new Date(seen).toISOString()}): remove it (10 unused recovery codes issued before then, under either secret: those under the old one then stop working)`;
    expect(await startLog(t)).toEqual([[WARN, past]]);
    expect(await checkPreviousSecret(t.config, () => clock.now())).toEqual({ check: "keys", status: "warn", detail: past });
    // An app under neither key fails the row; the 30 days past are said beside it, not hidden.
    const lost = await addUser(before.deps, { role: "admin" });
    const other = deriveKeys(Buffer.from("c".repeat(64), "hex"));
    await before.deps.db.insertInto("authenticator_apps").values({ user_id: lost.id, secret: sealSecret(other.totpSecret, before.deps.random, lost.id, "JBSWY3DPEHPK3PXP"), created_at: clock.now(), confirmed_at: clock.now(), last_step: null, last_used_at: null }).execute();
    expect(await checkPreviousSecret(t.config, () => clock.now())).toEqual({ check: "keys", status: "fail", detail: `${lostText(1)}; ${past}` });
    await t.deps.db.deleteFrom("authenticator_apps").where("user_id", "=", lost.id).execute();
    await t.deps.db.deleteFrom("key_fingerprints").where("purpose", "=", "secret-change").execute();
  });

  it("a wrong app code read under FAMOS_SECRET_PREVIOUS is not counted as a read; a right one is, once kept under FAMOS_SECRET", async () => {
    const u = await addUser(before.deps, { role: "admin" });
    const secret = await addConfirmedApp(before.deps, u.id);
    const t = await after({ FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    nextStep(t);
    const reads = async () => (await t.deps.metrics.registry.metrics()).match(/famos_previous_secret_reads_total\{what="app"\} (\d+)/)?.[1] ?? "0";
    const wrong = appFactor(t.deps, u, "000000", "signin");
    expect(await wrong.verify(clock.now())).toEqual({ kind: "wrong" });
    expect(await reads()).toBe("0");
    const right = appFactor(t.deps, u, await appCode(secret, clock.now()), "signin");
    expect(await right.verify(clock.now())).toEqual({ kind: "ok" });
    expect(await reads()).toBe("0");
    // Counted once the confirming transaction is committed (checkSecondFactor), not at its consume.
    expect(await checkSecondFactor(t.deps, u, right, { ip: "192.0.2.63", userAgent: "reads" }, async () => "signed-in")).toEqual({ kind: "ok", value: "signed-in" });
    expect(await reads()).toBe("1");
  });

  it("an app sealed by an instance still on the old secret after a clean start is told at the next start", async () => {
    const t = await after({});
    await t.deps.db.deleteFrom("authenticator_apps").execute();
    expect(await startLog(t)).toEqual([]);
    expect(await startLog(t)).toEqual([]);
    // The instance before the change, not yet restarted: an administrator starts setting up an app there.
    const u = await addUser(before.deps, { role: "admin" });
    const { client } = await signIn(before, { user: u, page: null });
    await client.get("/factor-setup");
    expect((await client.post("/factor-setup/app")).statusCode).toBe(303);
    expect(await startLog(t)).toEqual([[ERROR, expect.stringContaining("1 authenticator app's secret opens under neither FAMOS_SECRET nor FAMOS_SECRET_PREVIOUS")]]);
    expect(await startLog(t)).toHaveLength(1);
    await t.deps.db.deleteFrom("authenticator_apps").execute();
  });

  it("`famos reseal` refuses while the last start kept another FAMOS_SECRET's digests or one under its own has not finished, and reseals once one has", async () => {
    const u = await addUser(before.deps, { role: "admin" });
    await addConfirmedApp(before.deps, u.id);
    await serveStarted(before);
    const row = () => before.deps.db.selectFrom("authenticator_apps").select("secret").where("user_id", "=", u.id).executeTakeFirstOrThrow();
    const refused = await cli(["reseal"], { FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the login ID digests were last made by a famos serve start under another FAMOS_SECRET than this command's");
    expect(refused.stderr).toContain("login ID digests not made again under FAMOS_SECRET");
    expect(openSecret(before.deps.keys.totpSecret, u.id, (await row()).secret)).not.toBeNull();
    const t = await after({ FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    // A start under the new secret whose pass began and did not finish (it stopped on an error: a deadlock, a timeout).
    await keyedPassBegins(t.deps.db, t.deps.dialect, { kept: "login-digest", next: "login-digest-next", table: "users" }, loginDigestKeyFingerprint(t.deps.keys));
    const unfinished = await cli(["reseal"], { FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    expect(unfinished.code).toBe(1);
    expect(unfinished.stderr).toContain("a famos serve start under this FAMOS_SECRET has not finished making the login ID digests");
    expect(unfinished.stderr).toContain("login ID digests not made again under FAMOS_SECRET");
    expect(unfinished.stderr).not.toContain("another FAMOS_SECRET");
    expect(openSecret(before.deps.keys.totpSecret, u.id, (await row()).secret)).not.toBeNull();
    await serveStarted(t);
    const done = await cli(["reseal"], { FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    expect(done.code, done.stderr).toBe(0);
    expect(openSecret(deriveKeys(Buffer.from(NEW_SECRET, "hex")).totpSecret, u.id, (await row()).secret)).not.toBeNull();
  });
});
