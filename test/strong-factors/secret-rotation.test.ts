import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FixedClock } from "../../src/platform/clock.ts";
import { deriveKeys, hmacHex } from "../../src/platform/keys.ts";
import { identifyDevice } from "../../src/regulation/devices.ts";
import { openSecret } from "../../src/strong-factors/secret-box.ts";
import { loginKey } from "../../src/users/users.ts";
import { famosInProcess } from "../cli/famos-in-process.ts";
import { ERROR, loggerWithLines, WARN } from "../support/log-lines.ts";
import { addUser, createTestApp, listen, TEST_SECRET, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn, submitPassword } from "../support/client.ts";
import { appCode, nextStep, recoveryCodesFrom, secretFrom } from "./helpers.ts";

/**
 * FAMOS_SECRET changed (a leaked env file, a yearly rotation): two instances over one database, the
 * one before the change and the one after, each signed in to over real HTTP. What was made under the
 * old secret and read later: an administrator's authenticator-app secret (sealed under keys.totpSecret)
 * and recovery codes (HMAC under keys.recoveryCode). Without FAMOS_SECRET_PREVIOUS an administrator who
 * must use a strong factor has no way in; the loss is told (`famos doctor`, `famos reseal`), not silent.
 */
const NEW_SECRET = "b".repeat(64);
const ROLES = { FAMOS_STRONG_FACTOR_ROLES: "admin", FAMOS_LOCK_AFTER: "5" };

describe.each(["sqlite", "postgres"] as const)("FAMOS_SECRET changed, on %s", (database) => {
  const clock = new FixedClock();
  let before: TestApp;
  let admin: Awaited<ReturnType<typeof addUser>>;
  let appSecret: string;
  let recoveryCodes: string[];
  const opened: TestApp[] = [];

  /** An instance started after the change, over the same database, listening on a port of its own. */
  async function after(env: Record<string, string>): Promise<{ t: TestApp; client: (ip?: string) => FormClient }> {
    const t = await createTestApp({ clock, env: { ...ROLES, FAMOS_DATABASE_URL: before.config.databaseUrl, FAMOS_SECRET: NEW_SECRET, ...env } });
    opened.push(t);
    const url = await listen(t);
    return { t, client: (ip = "127.0.0.1") => new FormClient(overHttp(url), ip) };
  }

  /** Password, then "Use authenticator app" or "Use a recovery code", as a browser sends them. */
  async function strongSignIn(client: FormClient, factor: "app" | "recovery", code: string, user = admin) {
    const password = await submitPassword(client, user.login_id, user.password);
    expect(password.headers.location).toBe("/otp");
    await client.get(`/otp/${factor}`);
    return client.post(`/otp/${factor}`, { code });
  }

  /** What `famos serve` logs, once it listens, of the app secrets FAMOS_SECRET does not open (src/app/sealed-secrets-start.ts). */
  async function startLog(t: TestApp) {
    const { tellSealedSecretsAfterStart } = await import("../../src/app/sealed-secrets-start.ts");
    const { logger, lines } = loggerWithLines();
    await tellSealedSecretsAfterStart(t.deps, logger);
    return lines.map((l) => [l.level, l.apps, l.msg]);
  }

  const cli = (args: string[], env: Record<string, string>) => famosInProcess(args, { FAMOS_DATABASE_URL: before.config.databaseUrl, FAMOS_SECRET: NEW_SECRET, ...env });

  beforeAll(async () => {
    before = await createTestApp({ database, clock, env: ROLES });
    // The administrator sets up an app on the setup screen of the instance before the change.
    admin = await addUser(before.deps, { role: "admin" });
    const { client, answer } = await signIn(before, { user: admin, page: null });
    expect(answer.headers.location).toBe("/factor-setup");
    await client.get("/factor-setup");
    await client.post("/factor-setup/app");
    appSecret = secretFrom((await client.get("/factor-setup/app")).body);
    const done = await client.post("/factor-setup/app/confirm", { code: await appCode(appSecret, clock.now()) });
    recoveryCodes = recoveryCodesFrom(done.body);
    expect(recoveryCodes).toHaveLength(10);
  });
  afterAll(async () => {
    for (const t of opened.reverse()) await t.close();
    await before.close();
  });

  it("without FAMOS_SECRET_PREVIOUS the administrator's app and recovery codes are refused, and `famos doctor` and `famos reseal` say so", async () => {
    const { t, client } = await after({});
    nextStep(t);
    expect((await strongSignIn(client("10.40.0.1"), "app", await appCode(appSecret, clock.now()))).statusCode).toBe(401);
    expect((await strongSignIn(client("10.40.0.2"), "recovery", recoveryCodes[9]!)).statusCode).toBe(401);
    const doctor = await cli(["doctor"], {});
    expect(doctor.stdout).toMatch(/keys\s+FAIL\s+1 authenticator app's secret opens under neither FAMOS_SECRET nor FAMOS_SECRET_PREVIOUS/);
    // `famos serve` says it at each start, at error, until it is dealt with.
    for (let i = 0; i < 2; i++) expect(await startLog(t)).toEqual([[ERROR, 1, expect.stringContaining("1 authenticator app's secret opens under neither FAMOS_SECRET nor FAMOS_SECRET_PREVIOUS")]]);
    const reseal = await cli(["reseal"], {});
    expect(reseal.code).toBe(1);
    expect(reseal.stdout).toContain("1 authenticator app's secret opens under neither FAMOS_SECRET nor FAMOS_SECRET_PREVIOUS");
    // Staff with the emailed code sign in as before: a code made after the change is checked under the new key.
    // Their browser's device cookie from before the change is a stranger's until that sign-in gives it a new one.
    const staff = await addUser(before.deps);
    const earlier = await signIn(before, { user: staff, page: null });
    const browser = client("10.40.0.3");
    browser.cookies.set("famos_device", earlier.client.cookies.get("famos_device")!);
    const known = (deps: TestApp["deps"]) => identifyDevice(deps, browser.cookies.get("famos_device")!.split("~"), loginKey(staff.login_id), clock.now());
    expect(await known(before.deps)).not.toBeNull();
    expect(await known(t.deps)).toBeNull();
    const { answer } = await signIn({ mailbox: t.mailbox }, { user: staff, client: browser, page: null });
    expect(answer.headers.location).toBe("/");
    expect(await known(t.deps)).not.toBeNull();
  });

  it("with FAMOS_SECRET_PREVIOUS the administrator signs in with the app and reaches the console; the app's secret is sealed again under the new key", async () => {
    const { t, client } = await after({ FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    const oldKeys = deriveKeys(Buffer.from(TEST_SECRET, "hex"));
    const row = () => t.deps.db.selectFrom("authenticator_apps").select("secret").where("user_id", "=", admin.id).executeTakeFirstOrThrow();
    expect(openSecret(t.deps.keys.totpSecret, admin.id, (await row()).secret)).toBeNull();
    expect(await startLog(t)).toEqual([[WARN, 1, "1 authenticator app's secret still sealed under FAMOS_SECRET_PREVIOUS: run famos reseal"]]);
    nextStep(t);
    const browser = client("10.41.0.1");
    const signedIn = await strongSignIn(browser, "app", await appCode(appSecret, clock.now()));
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe("/");
    expect((await browser.get("/support")).statusCode).toBe(200);
    const resealed = (await row()).secret;
    expect(openSecret(t.deps.keys.totpSecret, admin.id, resealed)).toBe(appSecret);
    expect(openSecret(oldKeys.totpSecret, admin.id, resealed)).toBeNull();
    expect(await t.deps.metrics.registry.metrics()).toMatch(/famos_previous_secret_reads_total\{what="app"\} 1/);
    expect(await startLog(t)).toEqual([]);
    // Nothing left to re-seal: doctor says so, and the app goes on under the new key alone.
    expect((await cli(["doctor"], { FAMOS_SECRET_PREVIOUS: TEST_SECRET })).stdout).toMatch(/keys\s+OK\s+every authenticator app's secret is sealed under FAMOS_SECRET/);
  });

  it("with FAMOS_SECRET_PREVIOUS a recovery code issued before the change signs in once, and is kept under the new key", async () => {
    const { t, client } = await after({ FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    const code = recoveryCodes[0]!.replace("-", "");
    const browser = client("10.42.0.1");
    const signedIn = await strongSignIn(browser, "recovery", recoveryCodes[0]!);
    expect(signedIn.statusCode).toBe(303);
    expect((await browser.get("/support")).statusCode).toBe(200);
    const used = await t.deps.db.selectFrom("recovery_codes").select(["code_hash", "used_at"]).where("user_id", "=", admin.id).where("used_at", "is not", null).execute();
    expect(used).toEqual([{ code_hash: hmacHex(t.deps.keys.recoveryCode, `${admin.id}:${code}`), used_at: clock.now() }]);
    // Used once is used: the same code again is told as used, not taken for a new guess.
    const again = await strongSignIn(client("10.42.0.2"), "recovery", recoveryCodes[0]!);
    expect(again.statusCode).toBe(401);
    expect(again.body).toContain("already been used");
    expect(await t.deps.metrics.registry.metrics()).toMatch(/famos_previous_secret_reads_total\{what="recovery-code"\} 1/);
  });

  it("`famos reseal` seals again offline what opens under FAMOS_SECRET_PREVIOUS, and says what only FAMOS_SECRET_PREVIOUS still opens", async () => {
    // Another administrator whose app and codes were made before the change (the instance before it still runs).
    const other = await addUser(before.deps, { role: "admin" });
    const { client } = await signIn(before, { user: other, page: null });
    await client.get("/factor-setup");
    await client.post("/factor-setup/app");
    const secret = secretFrom((await client.get("/factor-setup/app")).body);
    await client.post("/factor-setup/app/confirm", { code: await appCode(secret, clock.now()) });
    const first = await cli(["reseal"], { FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("1 authenticator app's secret sealed again under FAMOS_SECRET");
    expect(first.stdout).toMatch(/recovery codes: \d+ unused, issued before .* may be open only under FAMOS_SECRET_PREVIOUS/);
    expect(first.stdout).toMatch(/Keep FAMOS_SECRET_PREVIOUS until those recovery codes are used or replaced, at most 30 days after the change, until \d{4}-/);
    // Kept past 30 days after the change was first seen (here: recorded as seen at the epoch): doctor asks for it to be removed.
    const seen = await before.deps.db.selectFrom("key_fingerprints").select("fingerprint").where("purpose", "=", "secret-change").executeTakeFirstOrThrow();
    const longAgo = `${seen.fingerprint.split("@")[0]}@0`;
    await before.deps.db.updateTable("key_fingerprints").set({ fingerprint: longAgo }).where("purpose", "=", "secret-change").execute();
    expect((await cli(["doctor"], { FAMOS_SECRET_PREVIOUS: TEST_SECRET })).stdout).toMatch(/keys\s+WARN\s+FAMOS_SECRET_PREVIOUS is still set more than 30 days after the change \(1970-01-01T00:00:00.000Z\): remove it \(0 unused recovery codes issued before then, under either secret: those under the old one then stop working\)/);
    // Sealed again, the app signs in on an instance without FAMOS_SECRET_PREVIOUS.
    const { t, client: newClient } = await after({});
    nextStep(t);
    expect((await strongSignIn(newClient("10.43.0.1"), "app", await appCode(secret, clock.now()), other)).headers.location).toBe("/");
    expect((await cli(["reseal"], { FAMOS_SECRET_PREVIOUS: TEST_SECRET })).stdout).toContain("0 authenticator apps' secrets sealed again");
  });
});
