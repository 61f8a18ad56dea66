import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { snapshot } from "../security/helpers.ts";
import { appCode, atOtp, nextStep, secretFrom, setUpAppOnProfile } from "./helpers.ts";

describe.each(["sqlite", "postgres"] as const)("authenticator app (RFC 6238) on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_LOCK_AFTER: "5" } });
  });
  afterAll(async () => t.close());

  async function userWithApp() {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const { secret } = await setUpAppOnProfile(t, client);
    return { user, secret };
  }

  it("is set up on Profile with a QR code and the key as text, and counts only once a code from it was confirmed", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    expect((await client.post("/profile/app", {})).headers.location).toBe("/profile/app");
    const page = await client.get("/profile/app");
    expect(page.body).toContain('src="data:image/svg+xml;base64,');
    const secret = secretFrom(page.body);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // Not yet confirmed: sign-in offers no app.
    expect((await atOtp(t, user, "10.1.0.1").then((c) => c.get("/otp"))).body).not.toContain("Use authenticator app");
    const wrong = await client.post("/profile/app/confirm", { code: "000000" === (await appCode(secret, t.clock.now())) ? "111111" : "000000" });
    expect(wrong.statusCode).toBe(401);
    const ok = await client.post("/profile/app/confirm", { code: await appCode(secret, t.clock.now()) });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain("Your recovery codes");
    const stored = await t.deps.db.selectFrom("authenticator_apps").selectAll().where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(stored.confirmed_at).not.toBeNull();
    expect(stored.secret).not.toContain(secret);
    const events = (await queryAudit(t.deps.db, { subject: user.login_id, limit: 50 })).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(["app.setup-started", "app.added", "app.failed", "recovery-codes.issued"]));
  });

  it("a code posted when no app setup is waiting is no guess: 400, and nothing is stored (no try counted, no audit line)", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    const before = await snapshot(t.deps.db);
    const answer = await client.post("/profile/app/confirm", { code: "123456" });
    expect(answer.statusCode).toBe(400);
    expect(answer.body).toContain("no authenticator app is waiting for its first code");
    expect(await snapshot(t.deps.db)).toEqual(before);
  });

  it("asks for the password to set up an app when no code was confirmed in the last 15 minutes", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    t.clock.advance(16 * 60_000);
    await client.get("/profile");
    const needed = await client.post("/profile/app", {});
    expect(needed.statusCode).toBe(401);
    expect(needed.body).toContain("Enter your password");
    const wrong = await client.post("/profile/app", { password: "not the password at all" });
    expect(wrong.statusCode).toBe(401);
    const ok = await client.post("/profile/app", { password: user.password });
    expect(ok.headers.location).toBe("/profile/app");
  });

  it("ASVS 3.7.1: an app setup belongs to the session that started it — another session of the user, without a fresh proof, neither sees its key nor confirms it", async () => {
    const user = await addUser(t.deps);
    // The other session: signed in earlier (a browser left open at the dealership, a stolen cookie), no code in 15 minutes.
    const other = new FormClient(t.app, "10.1.0.9");
    await signInFully(other, t.smtp, user);
    t.clock.advance(16 * 60_000);
    expect((await other.get("/profile")).statusCode).toBe(200);
    expect((await other.post("/profile/app", {})).statusCode).toBe(401);
    // The user, fresh from a code, starts a setup in her own browser.
    const own = new FormClient(t.app);
    await signInFully(own, t.smtp, user);
    await own.get("/profile");
    expect((await own.post("/profile/app", {})).headers.location).toBe("/profile/app");
    const secret = secretFrom((await own.get("/profile/app")).body);

    const peek = await other.get("/profile/app");
    expect(peek.statusCode).toBe(303);
    expect(peek.body).not.toContain(secret.slice(0, 4));
    // Profile offers "Continue the setup" only where it can be continued.
    expect((await other.get("/profile")).body).not.toContain('href="/profile/app"');
    expect((await own.get("/profile")).body).toContain('href="/profile/app"');
    const hijack = await other.post("/profile/app/confirm", { code: await appCode(secret, t.clock.now()) });
    expect(hijack.statusCode).toBe(400);
    expect(hijack.body).not.toContain("Your recovery codes");
    const stored = await t.deps.db.selectFrom("authenticator_apps").select("confirmed_at").where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(stored.confirmed_at).toBeNull();

    // Her own setup goes on as before.
    const ok = await own.post("/profile/app/confirm", { code: await appCode(secret, t.clock.now()) });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain("Your recovery codes");
  });

  it("signs in with a code from the app instead of the emailed one, and the same code is refused the second time", async () => {
    const { user, secret } = await userWithApp();
    nextStep(t);
    const client = await atOtp(t, user);
    const otp = await client.get("/otp");
    expect(otp.body).toContain('href="/otp/app"');
    await client.get("/otp/app");
    const code = await appCode(secret, t.clock.now());
    const signedIn = await client.post("/otp/app", { code });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe("/");
    expect((await client.get("/profile")).statusCode).toBe(200);
    const metrics = await t.deps.metrics.registry.metrics();
    expect(metrics).toMatch(/famos_strong_factor_checks_total\{factor="app",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/famos_sign_ins_total\{outcome="app-ok"\} [1-9]/);

    // Replay within the same 30-second window, from another sign-in: refused as used.
    const again = await atOtp(t, user, "10.1.0.2");
    await again.get("/otp/app");
    const replay = await again.post("/otp/app", { code });
    expect(replay.statusCode).toBe(401);
    expect(replay.body).toContain("already been used");
    expect((await again.get("/profile")).headers.location).toBe("/otp");
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "app.reused" })).toHaveLength(1);
    // ASVS 2.8.5: the holder is told, at the OTP email, in their language.
    const notice = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!) && m.subject === "A used FAMOS code was entered again");
    expect(notice.text).toContain("An authenticator app code that had already been used was entered again");
    expect(notice.text).toContain(user.login_id);
  });

  it("accepts a code one step early or late (clock drift) and refuses one two steps away", async () => {
    const { user, secret } = await userWithApp();
    for (const [offset, accepted] of [[-1, true], [+1, true], [-2, false], [+2, false]] as const) {
      nextStep(t, 3);
      const client = await atOtp(t, user, `10.2.0.${offset + 5}`);
      await client.get("/otp/app");
      const answer = await client.post("/otp/app", { code: await appCode(secret, t.clock.now() + offset * 30_000) });
      expect(answer.statusCode, `${offset} steps`).toBe(accepted ? 303 : 401);
      // Refused: the field keeps the cursor, marked invalid and read with the reason (WCAG 3.3.1), as OTP capture's.
      if (!accepted) expect(answer.body).toMatch(/role="alert" id="code-error">[^<]+<[\s\S]*id="appCode"[^>]* autofocus aria-invalid="true" aria-describedby="code-error">/);
    }
  });

  it("a wrong code at the app's setup is read with its field", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    await client.post("/profile/app", {});
    const page = await client.get("/profile/app");
    const right = await appCode(secretFrom(page.body), t.clock.now());
    const refused = await client.post("/profile/app/confirm", { code: right === "123456" ? "654321" : "123456" });
    expect(refused.body).toMatch(/role="alert" id="code-error">[^<]+<[\s\S]*id="setupCode"[^>]* autofocus aria-invalid="true" aria-describedby="code-error">/);
    expect(page.body).not.toContain('aria-invalid="true"');
  });

  it("two requests racing with one code: exactly one signs in, the other is told the code was used", async () => {
    const { user, secret } = await userWithApp();
    nextStep(t);
    const a = await atOtp(t, user, "10.3.0.1");
    const b = await atOtp(t, user, "10.3.0.2");
    await a.get("/otp/app");
    await b.get("/otp/app");
    const code = await appCode(secret, t.clock.now());
    const answers = await Promise.all([a.post("/otp/app", { code }), b.post("/otp/app", { code })]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([303, 401]);
    expect(answers.find((r) => r.statusCode === 401)!.body).toContain("already been used");
  });

  it("wrong app codes count toward the same lock as wrong emailed codes", async () => {
    const { user, secret } = await userWithApp();
    nextStep(t);
    const client = await atOtp(t, user, "10.4.0.1");
    const right = await appCode(secret, t.clock.now());
    const wrongCode = right === "123456" ? "654321" : "123456";
    // Two wrong emailed codes, three wrong app codes: five failures, the lock.
    for (let i = 0; i < 2; i++) expect((await client.post("/otp", { code: wrongCode })).statusCode).toBe(401);
    await client.get("/otp/app");
    for (let i = 0; i < 3; i++) expect((await client.post("/otp/app", { code: wrongCode })).statusCode).toBe(401);
    const locked = await client.post("/otp/app", { code: right });
    expect(locked.statusCode).toBe(429);
    expect(locked.body).toContain("Too many wrong codes");
  });

  it("Remove: the app's codes no longer work and sign-in no longer offers it", async () => {
    const { user, secret } = await userWithApp();
    const client = new FormClient(t.app, "10.5.0.1");
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    const removed = await client.post("/profile/app/remove", {});
    expect(removed.headers.location).toBe("/profile?factors=app-removed#factors");
    nextStep(t);
    const at = await atOtp(t, user, "10.5.0.2");
    expect((await at.get("/otp")).body).not.toContain("Use authenticator app");
    await at.get("/otp/app");
    const refused = await at.post("/otp/app", { code: await appCode(secret, t.clock.now()) });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("no authenticator app");
  });
});
