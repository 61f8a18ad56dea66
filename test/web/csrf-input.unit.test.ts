import Tokens from "@fastify/csrf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { appCode, secretFrom } from "../strong-factors/helpers.ts";

const LOGIN = { loginId: "nobody", password: "not the password" };
const CSRF_REFUSED = "This form has expired or did not come from FAMOS. Go back, reload the page and try again.";
const escapeHtml = (text: string) => text.replace(/'/g, "&#39;").replace(/"/g, "&quot;");

/** ASVS 4.2.2, OWASP CSRF cheat sheet "signed double submit" (src/web/csrf.ts). */
describe("CSRF tokens (unit tier)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  async function visitor(): Promise<FormClient> {
    const client = new FormClient(u.app);
    await client.get("/login");
    return client;
  }
  const refused = (body: string) => body.includes(escapeHtml(CSRF_REFUSED)) || body.includes(CSRF_REFUSED);

  it("accepts a form carrying the token of its own cookie", async () => {
    const client = await visitor();
    expect((await client.post("/login", LOGIN)).statusCode).toBe(401);
  });

  it("sets the secret once, in a signed HttpOnly SameSite=Lax cookie, and keeps it for the next pages", async () => {
    const first = await u.app.inject({ method: "GET", url: "/login" });
    const cookie = first.cookies.find((c) => c.name === "famos_csrf");
    expect(cookie).toMatchObject({ path: "/", httpOnly: true, sameSite: "Lax" });
    expect(cookie?.secure).toBeUndefined();
    expect(u.app.unsignCookie(cookie!.value).valid).toBe(true);
    const next = await u.app.inject({ method: "GET", url: "/login", headers: { cookie: `famos_csrf=${cookie!.value}` } });
    expect(next.cookies.map((c) => c.name)).not.toContain("famos_csrf");
  });

  it.each([
    ["no token", (c: FormClient) => c.post("/login", LOGIN, { csrf: false })],
    ["a wrong token", (c: FormClient) => c.post("/login", LOGIN, { csrf: "abc-def" })],
    ["an over-long token", (c: FormClient) => c.post("/login", LOGIN, { csrf: `${c.csrf!}${"a".repeat(200)}` })],
    ["the token without its cookie", (c: FormClient) => { c.cookies.delete("famos_csrf"); return c.post("/login", LOGIN); }],
    ["a cookie whose signature was changed", (c: FormClient) => { c.cookies.set("famos_csrf", `${c.cookies.get("famos_csrf")!.slice(0, -2)}AA`); return c.post("/login", LOGIN); }],
    ["an unsigned cookie", (c: FormClient) => { c.cookies.set("famos_csrf", c.cookies.get("famos_csrf")!.split(".")[0]!); return c.post("/login", LOGIN); }],
    ["an over-long cookie", (c: FormClient) => { c.cookies.set("famos_csrf", "a".repeat(201)); return c.post("/login", LOGIN); }],
  ])("refuses a form with %s (403, nothing done)", async (_what, send) => {
    const client = await visitor();
    const response = await send(client);
    expect(response.statusCode).toBe(403);
    expect(refused(response.body)).toBe(true);
  });

  it("refuses a POST with no body at all with 403, not a crash", async () => {
    const client = await visitor();
    const response = await u.app.inject({ method: "POST", url: "/login", headers: { cookie: client.cookieHeader() } });
    expect(response.statusCode).toBe(403);
    expect(refused(response.body)).toBe(true);
  });

  it("reads a signed cookie and a token of up to 200 characters each and nothing longer, genuine ones included", async () => {
    const tokens = Tokens();
    // With a session cookie (here one that names no session): without one, a refused token at Sign out leads to the signed-out page too.
    const logout = async (cookie: string, token: string) => {
      const answer = await u.app.inject({ method: "POST", url: "/logout", headers: { cookie: `famos_csrf=${cookie}; famos_session=${"n".repeat(43)}`, "content-type": "application/x-www-form-urlencoded" }, payload: `_csrf=${encodeURIComponent(token)}` });
      return answer.statusCode === 303 && answer.headers.location === "/login?signedOut=1" ? "accepted" : answer.statusCode;
    };
    // A signed cookie is its value, ".", and a 43-character signature: values of 156 and 157 characters make 200 and 201.
    for (const [length, outcome] of [[200, "accepted"], [201, 403]] as const) {
      const cookie = u.app.signCookie("s".repeat(length - 44));
      expect(cookie).toHaveLength(length);
      expect(await logout(cookie, tokens.create(u.app.unsignCookie(cookie).value!)), `a cookie of ${length}`).toBe(outcome);
    }
    // A token is its salt, "-" and a hash; @fastify/csrf verifies a salt of any length, so the cap is FAMOS's own.
    const cookie = u.app.signCookie(tokens.secretSync());
    const secret = u.app.unsignCookie(cookie).value!;
    const hash = tokens.create(secret).length - 9;
    for (const [length, outcome] of [[200, "accepted"], [201, 403]] as const) {
      const token = Tokens({ saltLength: length - 1 - hash }).create(secret);
      expect(token).toHaveLength(length);
      expect(await logout(cookie, token), `a token of ${length}`).toBe(outcome);
    }
  });

  it("refuses the token of another visitor's cookie", async () => {
    const me = await visitor();
    const other = await visitor();
    const response = await me.post("/login", LOGIN, { csrf: other.csrf! });
    expect(response.statusCode).toBe(403);
  });

  it("names the cookie __Host-famos_csrf and makes it Secure under HTTPS", async () => {
    const https = await createUnitApp({ env: { FAMOS_PUBLIC_URL: "https://famos.dealer.example" } });
    try {
      const page = await https.app.inject({ method: "GET", url: "/login" });
      expect(page.cookies.find((c) => c.name === "__Host-famos_csrf")).toMatchObject({ path: "/", httpOnly: true, secure: true, sameSite: "Lax" });
      expect(page.cookies.map((c) => c.name)).not.toContain("famos_csrf");
    } finally {
      await https.close();
    }
  });
});

/**
 * OWASP CSRF cheat sheet ("regenerate anti-CSRF secrets on authentication"): each session token FAMOS
 * issues comes with a new CSRF secret (src/web/auth.ts setSessionCookie → rotateCsrfSecret), so a
 * secret planted or read before sign-in is worth nothing after it.
 */
describe("CSRF secret rotation at sign-in (unit tier)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  const csrfCookie = (answer: { cookies: Array<{ name: string; value: string }> }) => answer.cookies.find((c) => c.name === "famos_csrf")?.value;

  it("refuses a token from a page seen before sign-in on a form sent after it, and takes the signed-in page's token", async () => {
    const client = new FormClient(u.app);
    await client.get("/login");
    const beforeSignIn = client.csrf!;
    await signIn(u, { client });
    const stale = await client.post("/logout", {}, { csrf: beforeSignIn });
    expect(stale.statusCode).toBe(403);
    expect((await client.get("/profile")).statusCode).toBe(200);
    const fresh = await client.post("/logout");
    expect(fresh.statusCode).toBe(303);
    expect(fresh.headers.location).toBe("/login?signedOut=1");
  });

  it("sets a new secret on the answer that completes each step of the sign-in (password, then code)", async () => {
    const client = new FormClient(u.app);
    await client.get("/login");
    const secret = (signed: string) => u.app.unsignCookie(signed).value;
    const beforeSignIn = client.cookies.get("famos_csrf")!;
    const { answer: password, code } = await signIn(u, { client, until: "otp" });
    const afterPassword = csrfCookie(password);
    expect(afterPassword, "Set-Cookie famos_csrf on the password step's 303").toBeDefined();
    expect(secret(afterPassword!)).not.toBe(secret(beforeSignIn));
    const otpPageToken = client.csrf!;
    const confirmed = await client.post("/otp", { code: code! });
    expect(confirmed.statusCode).toBe(303);
    const afterCode = csrfCookie(confirmed);
    expect(afterCode, "Set-Cookie famos_csrf on the code step's 303").toBeDefined();
    expect(secret(afterCode!)).not.toBe(secret(afterPassword!));
    // The half-signed-in OTP page's token is no better after the code than the sign-in page's.
    expect((await client.post("/logout", {}, { csrf: otpPageToken })).statusCode).toBe(403);
  });

  it("gives a page rendered by the answer that rotates the secret tokens of the new secret (Profile → authenticator app → recovery codes)", async () => {
    const { client } = await signIn(u);
    expect((await client.post("/profile/app", {})).headers.location).toBe("/profile/app");
    const secret = secretFrom((await client.get("/profile/app")).body);
    const before = client.cookies.get("famos_csrf");
    const confirmed = await client.post("/profile/app/confirm", { code: await appCode(secret, u.clock.now()) });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain("Your recovery codes");
    expect(csrfCookie(confirmed)).toBeDefined();
    expect(csrfCookie(confirmed)).not.toBe(before);
    // The page's own forms (the frame's Sign out) carry a token the new cookie takes.
    expect(confirmed.body).toContain('name="_csrf"');
    const signedOut = await client.post("/logout");
    expect(signedOut.statusCode).toBe(303);
    expect(signedOut.headers.location).toBe("/login?signedOut=1");
  });

  it("sets a new secret, and Clear-Site-Data \"storage\", on the answer that ends the browser's sign-in (Sign out, Cancel at User profile and at OTP capture): the old token is refused after it", async () => {
    for (const [until, url] of [["full", "/logout"], ["enrol", "/enrol/cancel"], ["otp", "/otp/cancel"]] as const) {
      const { client, user } = await signIn(u, { until });
      const before = client.cookies.get("famos_csrf")!;
      const old = client.csrf!;
      const out = await client.post(url);
      expect(out.statusCode, url).toBe(303);
      expect(out.headers["clear-site-data"], url).toBe('"storage"');
      const after = csrfCookie(out);
      expect(after, `Set-Cookie famos_csrf on ${url}'s 303`).toBeDefined();
      expect(u.app.unsignCookie(after!).value, url).not.toBe(u.app.unsignCookie(before).value);
      expect((await client.post("/login", { loginId: user.login_id, password: user.password }, { csrf: old })).statusCode, url).toBe(403);
      await client.get("/login");
      expect((await client.post("/login", { loginId: user.login_id, password: user.password })).statusCode, url).toBe(303);
    }
  });

  it("leaves the OTP page's Regenerate and Cancel working with the tokens it renders after the password step", async () => {
    const { client } = await signIn(u, { until: "otp" });
    u.clock.advance(31_000);
    const regenerated = await client.post("/otp/regenerate");
    expect(regenerated.statusCode).toBe(303);
    expect(regenerated.headers.location).toMatch(/^\/otp/);
    await client.get("/otp");
    const cancelled = await client.post("/otp/cancel");
    expect(cancelled.statusCode).toBe(303);
    expect(cancelled.headers.location).toBe("/login?cancelled=1");
  });
});

/** ASVS 5.1.3, 5.1.4: a NUL anywhere is a 400 before any handler (src/web/input-guard.ts). */
describe("the input guard (unit tier)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  const NUL_REFUSED = "The request contained a character FAMOS does not accept.";

  it.each(["/login?returnTo=%00", "/login?returnTo=/profile%00x", "/login%00"])("refuses a NUL in the address %s", async (url) => {
    const response = await u.app.inject({ method: "GET", url });
    expect(response.statusCode).toBe(400);
  });

  it("says why for a NUL in the query", async () => {
    const response = await u.app.inject({ method: "GET", url: "/login?returnTo=%00" });
    expect(response.body).toContain(NUL_REFUSED);
  });

  it("refuses an address that does not decode", async () => {
    const response = await u.app.inject({ method: "GET", url: "/login?returnTo=%E0%A4%A" });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain("The address of this request is not valid.");
  });

  it.each([
    ["a field value", "loginId=a%00b&password=x"],
    ["a field name", "login%00Id=a&password=x"],
    ["the second of a repeated field", "loginId=a&loginId=b%00&password=x"],
  ])("refuses a NUL in %s of a form, before the CSRF check", async (_what, body) => {
    const client = new FormClient(u.app);
    await client.get("/login");
    const response = await u.app.inject({
      method: "POST",
      url: "/login",
      payload: `${body}&_csrf=${encodeURIComponent(client.csrf!)}`,
      headers: { cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain(NUL_REFUSED);
  });

  it("lets an ordinary address and form through", async () => {
    const client = new FormClient(u.app);
    await client.get("/login?returnTo=%2Fprofile");
    expect((await client.post("/login", LOGIN)).statusCode).toBe(401);
  });
});

/** The bounce webhook's JSON (the one JSON route): the guard walks nulls, numbers and booleans past and finds a NUL however deep. */
describe("the input guard over JSON (unit tier)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_BOUNCE_WEBHOOK_SECRET: "w".repeat(40) } });
  });
  afterAll(async () => u.close());

  // No secret: the guard answers before the route's own check would (401).
  const hook = (payload: string) => u.app.inject({ method: "POST", url: "/hooks/bounce", payload, headers: { "content-type": "application/json" } });

  it.each([
    ["a value deep in a list", '[{"messageId":null,"reason":[1,true,null,{"status":"a\\u0000b"}]}]'],
    ["a name", '{"messageId":null,"a\\u0000b":1}'],
    ["a top-level string", '"a\\u0000b"'],
  ])("refuses a NUL in %s of a JSON body", async (_what, payload) => {
    const response = await hook(payload);
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain("The request contained a character FAMOS does not accept.");
  });

  it("lets nulls, numbers and booleans with no NUL through to the route (401 without the secret)", async () => {
    expect((await hook('[{"messageId":null,"reason":[1,true,null,{"status":null}],"n":0}]')).statusCode).toBe(401);
    expect((await hook("null")).statusCode).toBe(401);
  });
});
