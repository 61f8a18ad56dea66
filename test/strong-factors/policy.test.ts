import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { addPasskeyOnSetup, appCode, atOtp, nextStep, recoveryCodesFrom, secretFrom } from "./helpers.ts";

const BASE = { FAMOS_SECRET: "a".repeat(64), FAMOS_SMTP_URL: "smtp://localhost:25", FAMOS_MAIL_FROM: "a@b.example", FAMOS_SUPPORT_EMAIL: "it@b.example" };

describe("FAMOS_STRONG_FACTOR_ROLES", () => {
  it("defaults to support,admin in production and to none in development; takes a list or none; refuses unknown roles", () => {
    const roles = (env: Record<string, string>) => {
      const result = loadConfig({ ...BASE, ...env });
      return result.ok ? result.config.strongFactorRoles : result.errors;
    };
    expect(roles({ NODE_ENV: "production" })).toEqual(["support", "admin"]);
    expect(roles({ NODE_ENV: "development" })).toEqual([]);
    expect(roles({ NODE_ENV: "production", FAMOS_STRONG_FACTOR_ROLES: "none" })).toEqual([]);
    expect(roles({ FAMOS_STRONG_FACTOR_ROLES: "admin, user" })).toEqual(["admin", "user"]);
    expect(roles({ FAMOS_STRONG_FACTOR_ROLES: "admin,root" })).toEqual([expect.stringContaining('FAMOS_STRONG_FACTOR_ROLES: "root" is not a role')]);
  });
});

describe("a support user must set up a strong factor, and then the emailed code no longer signs them in", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_STRONG_FACTOR_ROLES: "support,admin" } });
  });
  afterAll(async () => t.close());

  /** Password and emailed code for a support user without a factor: the session lands on the setup screen. */
  async function atSetup(user?: Awaited<ReturnType<typeof addUser>>, from = "/login") {
    const who = user ?? (await addUser(t.deps, { role: "support" }));
    const { client, answer } = await signIn(t, { user: who, page: null, from });
    expect(answer.headers.location).toBe("/factor-setup");
    return { client, user: who };
  }

  /** "Set up authenticator app" on the setup screen, as a browser sends it (a form with its CSRF token), then the page it leads to. */
  async function appSetupPage(client: FormClient) {
    await client.get("/factor-setup");
    const started = await client.post("/factor-setup/app");
    expect(started.statusCode).toBe(303);
    expect(started.headers.location).toBe("/factor-setup/app");
    return client.get("/factor-setup/app");
  }

  it("a GET of the app setup page starts nothing (a prefetch or an <img> cannot); the setup starts on a POST with its CSRF token", async () => {
    const { client, user } = await atSetup();
    const pendingRows = () => t.deps.db.selectFrom("authenticator_apps").select("user_id").where("user_id", "=", user.id).execute();
    const setup = await client.get("/factor-setup");
    expect(setup.body).toMatch(/<form method="post" action="\/factor-setup\/app">\s*<input type="hidden" name="_csrf"[^>]*>\s*<button type="submit"[^>]*>Set up authenticator app<\/button>/);
    expect(setup.body).not.toContain('href="/factor-setup/app"');
    const opened = await client.get("/factor-setup/app");
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe("/factor-setup");
    expect(await pendingRows()).toEqual([]);
    expect((await client.post("/factor-setup/app", {}, { csrf: false })).statusCode).toBe(403);
    expect(await pendingRows()).toEqual([]);
    const page = await appSetupPage(client);
    expect(page.statusCode).toBe(200);
    const secret = secretFrom(page.body);
    // Opening it again, or posting again, shows the same secret: the setup is not started twice.
    expect(secretFrom((await appSetupPage(client)).body)).toBe(secret);
    expect(secretFrom((await appSetupPage(client)).body)).toBe(secret);
    expect(await pendingRows()).toHaveLength(1);
  });

  it("after the emailed code, reaches only the setup screen: no console, no portal, no profile, no return_to, no protected app", async () => {
    const { client } = await atSetup(undefined, `/login?returnTo=${encodeURIComponent("/support")}`);
    const setup = await client.get("/factor-setup");
    expect(setup.statusCode).toBe(200);
    expect(setup.body).toContain("Set up authenticator app");
    for (const url of ["/", "/support", "/profile", "/quotation", "/otp", "/enrol", "/choose-password"]) {
      const answer = await client.get(url);
      expect(answer.statusCode, url).toBe(303);
      expect(answer.headers.location, url).toBe("/factor-setup");
    }
    expect((await client.get("/auth/nginx")).statusCode).toBe(401);
    // Posting a Profile form from this stage changes nothing either.
    expect((await client.post("/profile/app", {})).headers.location).toBe("/factor-setup");
  });

  it("ASVS 4.1.1: a session at the setup screen reaches nothing but its own step (every route, enumerated)", async () => {
    const { client } = await atSetup();
    // The forms a browser at this step can send carry the setup page's token (the code step renewed the CSRF secret).
    await client.get("/factor-setup");
    const own = ["/factor-setup", "/factor-setup/app", "/factor-setup/app/confirm", "/factor-setup/passkey", "/factor-setup/passkey/options"];
    const open = (route: { url: string; config: { access?: string } }) =>
      route.config.access === "public" || /^\/(healthz|readyz|metrics|static\/|dev\/mailbox|auth\/(nginx|traefik)|hooks\/bounce)/.test(route.url);
    const checked: string[] = [];
    for (const route of t.app.famosRoutes) {
      if (open(route) || own.includes(route.url) || route.method === "HEAD") continue;
      const url = route.url.replace(/:[A-Za-z]+/g, "x0").replace(/\*$/, "anything");
      const response = route.method === "GET" ? await client.get(url) : await client.post(url, {});
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(303);
      expect(response.headers.location, `${route.method} ${route.url}`).toBe("/factor-setup");
      checked.push(`${route.method} ${route.url}`);
    }
    expect(checked).toEqual(expect.arrayContaining(["GET /profile", "GET /support", "POST /profile/app", "GET /otp/app", "POST /otp"]));
  });

  it("adds a passkey on the setup screen instead: recovery codes once, then the console; the emailed code no longer signs in", async () => {
    const { client, user } = await atSetup();
    const setup = await client.get("/factor-setup");
    expect(setup.body).toContain("Add a passkey");
    const done = await addPasskeyOnSetup(client, "Support laptop");
    expect(done.statusCode).toBe(200);
    expect(recoveryCodesFrom(done.body)).toHaveLength(10);
    expect((await client.get("/support")).statusCode).toBe(200);
    const events = await t.deps.db.selectFrom("audit").select("event").where("subject", "=", user.login_id.toLowerCase()).execute();
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["passkey.added", "recovery-codes.issued"]));
    // The next sign-in offers the passkey, and the emailed code no longer signs in.
    nextStep(t);
    const next = await atOtp(t, user, "10.20.0.2");
    expect((await next.get("/otp")).body).toContain("Use a passkey instead");
    const emailed = await next.post("/otp", { code: "123456" });
    expect(emailed.statusCode).not.toBe(303);
  });

  it("sets up the app on the setup screen, sees recovery codes once, then reaches the console; the next sign-in sends no code and refuses emailed codes", async () => {
    const { client, user } = await atSetup();
    const page = await appSetupPage(client);
    expect(page.statusCode).toBe(200);
    const secret = secretFrom(page.body);
    const done = await client.post("/factor-setup/app/confirm", { code: await appCode(secret, t.clock.now()) });
    expect(done.statusCode).toBe(200);
    expect(recoveryCodesFrom(done.body)).toHaveLength(10);
    expect((await client.get("/support")).statusCode).toBe(200);

    // Next sign-in: OTP capture offers the app and recovery codes, and no code is sent.
    const codesBefore = await t.deps.db.selectFrom("codes").select("id").where("email", "=", user.otp_email!).execute();
    nextStep(t);
    const next = await atOtp(t, user, "10.20.0.1");
    const otp = await next.get("/otp");
    expect(otp.body).toContain("Use authenticator app");
    expect(otp.body).toContain("Use a recovery code");
    expect(otp.body).not.toContain('name="code"');
    expect((await next.post("/otp/regenerate", {})).headers.location).toBe("/otp");
    const refused = await next.post("/otp", { code: "123456" });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain("the emailed code is not enough");
    const codesAfter = await t.deps.db.selectFrom("codes").select("id").where("email", "=", user.otp_email!).execute();
    expect(codesAfter).toHaveLength(codesBefore.length);
    const signedIn = await next.post("/otp/app", { code: await appCode(secret, t.clock.now()) });
    expect(signedIn.headers.location).toBe("/");
    expect((await next.get("/support")).statusCode).toBe(200);
  });

  it("a right emailed code, sent before the user set up a factor elsewhere, no longer completes the sign-in", async () => {
    const user = await addUser(t.deps, { role: "admin" });
    const waiting = await signIn(t, { user, until: "otp", ip: "10.21.0.1" });
    const { client } = await atSetup(user);
    const secret = secretFrom((await appSetupPage(client)).body);
    expect((await client.post("/factor-setup/app/confirm", { code: await appCode(secret, t.clock.now()) })).statusCode).toBe(200);
    const late = await waiting.client.post("/otp", { code: waiting.code! });
    expect(late.statusCode).toBe(403);
    expect((await waiting.client.get("/profile")).headers.location).toBe("/otp");
  });

  it("a support user with an app but no OTP email is not sent to enrolment (an emailed code would be refused anyway)", async () => {
    const { client, user } = await atSetup();
    const secret = secretFrom((await appSetupPage(client)).body);
    await client.post("/factor-setup/app/confirm", { code: await appCode(secret, t.clock.now()) });
    await t.deps.db.updateTable("users").set({ otp_email: null }).where("id", "=", user.id).execute();
    const next = await atOtp(t, { ...user, otp_email: null }, "10.22.0.1");
    expect((await next.get("/otp")).body).toContain("Use authenticator app");
  });

  it("Sign out is the one way off the setup screen", async () => {
    const { client } = await atSetup();
    await client.get("/factor-setup");
    const out = await client.post("/logout", {});
    expect(out.headers.location).toBe("/login?signedOut=1");
    expect((await client.get("/factor-setup")).headers.location).toMatch(/^\/login/);
  });

  it("users outside those roles keep the emailed code, with the app as an alternative", async () => {
    const plain = new FormClient(t.app, "10.23.0.1");
    const { answer } = await signIn(t, { role: "user", client: plain, page: null });
    expect(answer.headers.location).toBe("/");
  });
});
