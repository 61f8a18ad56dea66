import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { signInFrom } from "./protected-support.ts";

const forwarded = (url: string) => {
  const { protocol, host, pathname, search } = new URL(url);
  return { "x-forwarded-proto": protocol.slice(0, -1), "x-forwarded-host": host, "x-forwarded-uri": pathname + search };
};

describe("forward authentication: /auth/nginx and /auth/traefik (requests as the proxies make them)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_COOKIE_DOMAIN: "dealer.example", FAMOS_SESSION_IDLE: "30m" },
    });
  });
  afterAll(async () => t.close());

  const ask = (path: string, cookie: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: "GET", url: path, headers: { ...(cookie ? { cookie } : {}), ...headers } });

  it("answers 200 with the identity headers for a full session, on both endpoints", async () => {
    const user = await addUser(t.deps, { loginId: "ŁK01", fullName: "Łukasz Kowalski", partnerNumber: "00417", role: "admin" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    for (const path of ["/auth/nginx", "/auth/traefik"]) {
      const answer = await ask(path, client.cookieHeader(), forwarded("https://app.dealer.example/quotes"));
      expect(answer.statusCode, path).toBe(200);
      expect(answer.headers["x-famos-login-id"]).toBe("%C5%81K01");
      expect(answer.headers["x-famos-name"]).toBe("%C5%81ukasz%20Kowalski");
      expect(answer.headers["x-famos-partner"]).toBe("00417");
      expect(answer.headers["x-famos-role"]).toBe("admin");
      expect(answer.headers["set-cookie"]).toBeUndefined();
      expect(answer.headers["cache-control"]).toBe("no-store");
    }
    // The answer does not depend on a method: the proxies ask with GET, HEAD works too.
    expect((await t.app.inject({ method: "HEAD", url: "/auth/nginx", headers: { cookie: client.cookieHeader() } })).statusCode).toBe(200);
  });

  it("answers 401 from /auth/nginx, with the sign-in address (original URL percent-encoded) for nginx to redirect to", async () => {
    const answer = await ask("/auth/nginx", "", forwarded("https://app.dealer.example/quotes/new?customer=42&term=48"));
    expect(answer.statusCode).toBe(401);
    expect(answer.headers["x-famos-login-id"]).toBeUndefined();
    const login = new URL(answer.headers["x-famos-login-url"] as string);
    expect(login.origin + login.pathname).toBe("https://famos.dealer.example/login");
    expect(login.searchParams.get("returnTo")).toBe("https://app.dealer.example/quotes/new?customer=42&term=48");
    // A host FAMOS does not return to: sign-in without the way back.
    const foreign = await ask("/auth/nginx", "", forwarded("https://evil.example/phish"));
    expect(foreign.headers["x-famos-login-url"]).toBe("https://famos.dealer.example/login");
  });

  it("redirects from /auth/traefik to sign in with the original URL, refuses foreign hosts, and works without the headers", async () => {
    const answer = await ask("/auth/traefik", "", forwarded("https://app.dealer.example/vehicle?id=9"));
    expect(answer.statusCode).toBe(302);
    expect(answer.headers.location).toBe(`https://famos.dealer.example/login?returnTo=${encodeURIComponent("https://app.dealer.example/vehicle?id=9")}`);

    for (const url of ["https://evil.example/", "https://app.dealer.example.evil.example/x", "http://app.dealer.example/"]) {
      const foreign = await ask("/auth/traefik", "", forwarded(url));
      expect(foreign.statusCode, url).toBe(403);
      expect(foreign.headers.location, url).toBeUndefined();
      expect(foreign.body).toContain("FAMOS does not sign people in for this address");
    }
    const forged = await ask("/auth/traefik", "", { "x-forwarded-proto": "https", "x-forwarded-host": "evil.example\\@app.dealer.example", "x-forwarded-uri": "/" });
    expect(forged.statusCode).toBe(403);
    const bare = await ask("/auth/traefik", "");
    expect(bare.statusCode).toBe(302);
    expect(bare.headers.location).toBe("https://famos.dealer.example/login");
  });

  it("returns to the application's URL after the code, starting from the sign-in address FAMOS gave", async () => {
    const user = await addUser(t.deps, { fullName: "Jane Smith" });
    const client = new FormClient(t.app);
    const original = "https://app.dealer.example/quotes/new?customer=42&term=48";
    const redirect = await ask("/auth/traefik", "", forwarded(original));
    const login = new URL(redirect.headers.location as string);
    const confirmed = await signInFrom(t, client, login.pathname + login.search, user);
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe(original);
    // The OTP page's CSP lets Chromium follow that redirect to a sibling host (form-action).
    const otp = await submitPassword(new FormClient(t.app), user.login_id, user.password);
    expect(otp.headers["content-security-policy"]).toContain("form-action 'self' https://famos.dealer.example:* https://dealer.example:* https://*.dealer.example:*");
  });

  it("refuses half-signed-in sessions, ended sessions and sessions idle past FAMOS_SESSION_IDLE", async () => {
    const half = await addUser(t.deps);
    const halfClient = new FormClient(t.app);
    await submitPassword(halfClient, half.login_id, half.password);
    expect((await ask("/auth/nginx", halfClient.cookieHeader())).statusCode).toBe(401);
    expect((await ask("/auth/traefik", halfClient.cookieHeader(), forwarded("https://app.dealer.example/"))).statusCode).toBe(302);

    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const cookie = client.cookieHeader();
    // Asking keeps the session alive while the user works in the application...
    t.clock.advance(20 * 60_000);
    expect((await ask("/auth/nginx", cookie)).statusCode).toBe(200);
    t.clock.advance(20 * 60_000);
    expect((await ask("/auth/nginx", cookie)).statusCode).toBe(200);
    // ...and 30 minutes without a request end it.
    t.clock.advance(30 * 60_000 + 1);
    expect((await ask("/auth/nginx", cookie)).statusCode).toBe(401);
    expect((await ask("/auth/traefik", cookie, forwarded("https://app.dealer.example/"))).statusCode).toBe(302);

    const other = await addUser(t.deps);
    const otherClient = new FormClient(t.app);
    await signInFully(otherClient, t.smtp, other);
    const otherCookie = otherClient.cookieHeader();
    await otherClient.get("/profile");
    await otherClient.post("/logout");
    expect((await ask("/auth/nginx", otherCookie)).statusCode).toBe(401);
  });
});
