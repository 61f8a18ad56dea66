import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { applicationCookieTag } from "../../src/web/upstream-headers.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signIn, signInFully, submitPassword } from "../support/client.ts";
import { smtpMailbox } from "../support/mailbox.ts";
import { addConfirmedApp, appCode, nextStep } from "../strong-factors/helpers.ts";
import { closedPort, rememberState, signInFrom, startExampleApp, type ExtraRoute } from "./protected-support.ts";

interface Diagnostics {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  identity: { loginId: string; name: string; partner: string; role: string };
}

describe("reverse proxy to the protected application (FAMOS_UPSTREAM_URL)", () => {
  let t: TestApp;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;
  let famosPort: number;
  let live: WebSocketServer;

  beforeAll(async () => {
    upstream = await startExampleApp();
    // A live channel on the application, to show WebSocket upgrades pass with the user's identity.
    live = new WebSocketServer({ server: upstream.server, path: "/quotation/live" });
    live.on("connection", (socket, request) => {
      socket.send(JSON.stringify({ loginId: request.headers["x-famos-login-id"], cookie: request.headers.cookie ?? null }));
      socket.on("message", (data) => socket.send(`echo:${String(data)}`));
    });
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    famosPort = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const client of live.clients) client.terminate();
    live.close();
    await t.close();
    await upstream.stop();
  });

  /** The user's tag on the application's cookie names, as FAMOS puts it on them. */
  const tagOf = (user: { id: string }) => applicationCookieTag(t.deps.keys.appCookie, user.id);

  async function diagnostics(client: FormClient, path = "/quotation/diagnostics"): Promise<Diagnostics> {
    const response = await client.get(path);
    expect(response.statusCode, response.body).toBe(200);
    return JSON.parse(response.body) as Diagnostics;
  }

  it("sends a signed-out visitor to sign in and back to the section, query included, after the code", async () => {
    const user = await addUser(t.deps, { fullName: "Jane Smith" });
    const client = new FormClient(t.app);
    const first = await client.get("/quotation?customer=42&view=full");
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe(`/login?returnTo=${encodeURIComponent("/quotation?customer=42&view=full")}`);

    const confirmed = await signInFrom(t, client, first.headers.location as string, user);
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe("/quotation?customer=42&view=full");
    const section = await client.get(confirmed.headers.location as string);
    expect(section.statusCode).toBe(200);
    expect(section.body).toContain(`Signed in as <strong id="signed-in-name">Jane Smith</strong>`);
    expect(section.body).toContain("Save quotation");
  });

  it("sends a half-signed-in session to its step, not to the application", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    const section = await client.get("/vehicle");
    expect(section.statusCode).toBe(303);
    expect(section.headers.location).toBe("/otp");
  });

  it("passes a UTF-8 name percent-encoded, and the application decodes it", async () => {
    const user = await addUser(t.deps, { loginId: "łukasz.wiśniewski", fullName: "Łukasz Żółć-Brzęczyszczykiewicz", partnerNumber: "007 12", role: "support" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const seen = await diagnostics(client);
    expect(seen.headers["x-famos-name"]).toBe("%C5%81ukasz%20%C5%BB%C3%B3%C5%82%C4%87-Brz%C4%99czyszczykiewicz");
    expect(seen.headers["x-famos-login-id"]).toBe(encodeURIComponent("łukasz.wiśniewski"));
    expect(seen.identity).toEqual({ loginId: "łukasz.wiśniewski", name: "Łukasz Żółć-Brzęczyszczykiewicz", partner: "007 12", role: "support" });
    const page = await client.get("/quotation");
    expect(page.body).toContain("Łukasz Żółć-Brzęczyszczykiewicz");
  });

  it("never lets a forged X-Famos-* header from the client reach the application, whatever its case, spelling or count", async () => {
    const user = await addUser(t.deps, { loginId: "jsmith", fullName: "Jane Smith", role: "user" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    // Raw header pairs, so that one header can come twice and in any case (inject would merge them).
    const { status, body } = await rawGet(famosPort, "/quotation/diagnostics", [
      "Host", `127.0.0.1:${famosPort}`,
      "X-Famos-Login-Id", "admin",
      "x-famos-login-id", "root",
      "X-FAMOS-ROLE", "admin",
      "X_Famos_Name", "Mallory",
      "X-Famos-Partner", "99999",
      "X-Famos-Impersonate", "admin",
      "X-Famos.Role", "admin",
      "Cookie", `theme.${tagOf(user)}=dark; ${client.cookieHeader()}; last_quote.${tagOf(user)}=17; untagged=1`,
    ]);
    expect(status).toBe(200);
    const seen = JSON.parse(body) as Diagnostics;
    expect(seen.headers["x-famos-login-id"]).toBe("jsmith");
    expect(seen.headers["x-famos-role"]).toBe("user");
    expect(seen.headers["x-famos-name"]).toBe("Jane%20Smith");
    expect(seen.headers["x-famos-partner"]).toBe("01234");
    expect(seen.headers["x_famos_name"]).toBeUndefined();
    expect(seen.headers["x-famos-impersonate"]).toBeUndefined();
    expect(seen.headers["x-famos.role"]).toBeUndefined();
    // The user's own application cookies pass, under their own names; FAMOS's session and CSRF cookies never do.
    expect(seen.headers.cookie).toBe("theme=dark; last_quote=17");
    expect(JSON.stringify(seen.headers)).not.toMatch(/famos_session|famos_csrf/);
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("passes POST bodies through unchanged: the application's own form, a form larger than FAMOS's limit, and JSON", async () => {
    const user = await addUser(t.deps, { fullName: "Jane Smith" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const form = await client.get("/quotation");
    const appToken = /name="app_token" value="([^"]+)"/.exec(form.body)![1]!;
    // No FAMOS _csrf: the application's form carries its own token, and FAMOS does not ask for one.
    const saved = await client.post(
      "/quotation",
      { app_token: appToken, customer: "Zoë O'Brien & Sons", vehicle: "Škoda Octavia 2.0 TDI", amount: "18 500", term: "48" },
      { csrf: false },
    );
    expect(saved.statusCode).toBe(200);
    expect(saved.body).toContain("Quotation for <strong>Zoë O&#39;Brien &amp; Sons</strong>: Škoda Octavia 2.0 TDI, £18 500 over 48 months.");

    const big = `notes=${"x".repeat(40_000)}&a=1&a=2&b=%C5%81&c=+%2B`;
    const echoedForm = await t.app.inject({
      method: "POST",
      url: "/quotation/diagnostics",
      payload: big,
      headers: { cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
    });
    expect(echoedForm.statusCode).toBe(200);
    const formSeen = JSON.parse(echoedForm.body) as Diagnostics;
    expect(formSeen.body).toBe(big);
    expect(formSeen.headers["content-type"]).toBe("application/x-www-form-urlencoded");

    const json = '{"quote":{"amount":18500.00,"customer":"Łucja"},"tags":[1,2]}';
    const echoedJson = await t.app.inject({
      method: "POST",
      url: "/quotation/diagnostics",
      payload: json,
      headers: { cookie: client.cookieHeader(), "content-type": "application/json; charset=utf-8" },
    });
    const jsonSeen = JSON.parse(echoedJson.body) as Diagnostics;
    expect(jsonSeen.body).toBe(json);
    expect(jsonSeen.method).toBe("POST");
  });

  it("checks the Origin of proxied form posts and refuses signed-out posts", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const foreign = await client.post("/quotation", { customer: "x" }, { csrf: false, headers: { origin: "https://evil.example" } });
    expect(foreign.statusCode).toBe(403);
    const signedOut = await new FormClient(t.app).post("/quotation", { customer: "x" }, { csrf: false });
    expect(signedOut.statusCode).toBe(303);
    expect(signedOut.headers.location).toBe("/login");
  });

  it("issue 19.4: the section cookie reaches only the application's own form posts, never FAMOS's pages", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const section = client.cookies.get("famos_section");
    expect(section).toBe(client.cookies.get("famos_session"));
    const onlySection = new FormClient(t.app);
    onlySection.cookies.set("famos_section", section!);
    // A sandboxed page's own form: Origin null, a navigation, the section cookie alone. It goes through.
    const form = await onlySection.post("/quotation/diagnostics", { customer: "x" }, { csrf: false, headers: { origin: "null", "sec-fetch-mode": "navigate" } });
    expect(form.statusCode).toBe(200);
    expect((JSON.parse(form.body) as Diagnostics).identity.loginId).toBe(user.login_id);
    // A script's fetch from the same page (not a navigation), or any GET: refused or signed out.
    expect((await onlySection.post("/quotation/diagnostics", {}, { csrf: false, headers: { origin: "null", "sec-fetch-mode": "cors" } })).statusCode).toBe(403);
    expect((await onlySection.get("/quotation/diagnostics")).statusCode).toBe(303);
    // FAMOS's own pages never read it: signed out there, and Origin null is refused.
    expect((await onlySection.get("/profile")).headers.location).toBe("/login?returnTo=%2Fprofile");
    const role = await onlySection.post(`/support/users/${user.id}/role`, { role: "admin" }, { csrf: false, headers: { origin: "null", "sec-fetch-mode": "navigate" } });
    expect(role.statusCode).toBe(403);
    // Sign-out clears it with the session cookie.
    await client.get("/");
    await client.post("/logout");
    expect(client.cookies.has("famos_section")).toBe(false);
  });

  it("keeps the application's response headers and adds none of FAMOS's page headers to them", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const page = await client.get("/quotation");
    // The application's own policy, and beside it FAMOS's sandbox (issue 19.4: an opaque origin).
    expect(page.headers["content-security-policy"]).toEqual([
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'self'",
      "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads",
    ]);
    expect(page.headers["cache-control"]).toBe("private, no-cache");
    expect(page.headers["x-example-app"]).toBe("protected-app");
    expect(page.headers["x-frame-options"]).toBeUndefined();
    expect(page.headers["cross-origin-opener-policy"]).toBeUndefined();
    // FAMOS's own answers on a section path (here: go and sign in) keep FAMOS's headers.
    const redirect = await new FormClient(t.app).get("/quotation");
    expect(redirect.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(redirect.headers["x-frame-options"]).toBe("DENY");
  });

  it("refuses the section after sign-out, with the old cookie too", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const cookie = client.cookieHeader();
    expect((await client.get("/customer-assistant")).statusCode).toBe(200);
    await client.get("/profile");
    await client.post("/logout");
    const after = await client.get("/customer-assistant");
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toMatch(/^\/login\?returnTo=/);
    const replay = await t.app.inject({ method: "GET", url: "/customer-assistant", headers: { cookie } });
    expect(replay.statusCode).toBe(303);
  });

  it("proxies only the section paths, and refuses paths that climb out of them", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    expect((await client.get("/quotations")).statusCode).toBe(404);
    expect((await client.get("/quotation")).headers["x-example-app"]).toBe("protected-app");
    // Dot segments are resolved by FAMOS's router (here: to FAMOS's own Profile page), and encoded
    // slashes that would climb out of the section are refused by the proxy: never the application.
    for (const path of ["/quotation/%2e%2e/profile", "/quotation/..%2f..%2fadmin", "/quotation/%2e%2e%5cadmin"]) {
      const climb = await client.get(path);
      expect(climb.headers["x-example-app"], path).toBeUndefined();
      expect(climb.statusCode, path).not.toBe(502);
    }
  });

  it("passes WebSocket upgrades for signed-in users only, with identity and the user's own application cookies, without FAMOS's", async () => {
    const user = await addUser(t.deps, { loginId: "ws.user" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const url = `ws://127.0.0.1:${famosPort}/quotation/live`;

    // FAMOS_PUBLIC_URL is not set here, so the request's own host is the expected Origin.
    const origin = `http://127.0.0.1:${famosPort}`;
    const socket = new WebSocket(url, { headers: { cookie: `${client.cookieHeader()}; theme.${tagOf(user)}=dark; other=1`, origin } });
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on("message", (data) => {
        messages.push(String(data));
        if (messages.length === 1) socket.send("hello");
        if (messages.length === 2) resolve();
      });
      socket.once("error", reject);
    });
    socket.close();
    expect(JSON.parse(messages[0]!)).toEqual({ loginId: "ws.user", cookie: "theme=dark" });
    expect(messages[1]).toBe("echo:hello");

    expect(await refusedHandshake(url, {})).toBe(303);
    expect(await refusedHandshake(url, { cookie: client.cookieHeader(), origin: "https://evil.example" })).toBe(403);
  });
});

/**
 * The application's pages for the cookie tests: rememberState's, and `/customer/prefs`, which sets a
 * __Host- cookie (Secure, Path=/) and a plain one beside app_session.
 */
const rememberStateAndPrefs: ExtraRoute = (request, response) => {
  if (!request.url?.startsWith("/customer/prefs")) return rememberState(request, response);
  response.writeHead(200, { "set-cookie": ["__Host-prefs=compact; Secure; Path=/", "theme=dark; Path=/"] });
  response.end("saved");
  return true;
};

/**
 * Shared dealership PCs: A signs in, the application sets its own session cookie, A signs out (or her
 * session lapses), B signs in on the same browser. The application must never get A's cookie with B's
 * identity: B's sign-in expires it, and one still sent (a browser that kept it) stays behind.
 */
describe("reverse proxy: the application's cookies belong to the FAMOS user they were set for", () => {
  let t: TestApp;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;

  beforeAll(async () => {
    upstream = await startExampleApp(rememberStateAndPrefs);
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url } });
  });
  afterAll(async () => {
    await t.close();
    await upstream.stop();
  });

  /** Who the application was told is signed in, and the Cookie header it received. */
  async function seenByApplication(browser: FormClient): Promise<{ loginId: string; cookie: string | null }> {
    const response = await browser.get("/customer/diagnostics");
    expect(response.statusCode, response.body).toBe(200);
    const seen = JSON.parse(response.body) as Diagnostics;
    return { loginId: seen.identity.loginId, cookie: (seen.headers.cookie as string | undefined) ?? null };
  }

  async function remember(browser: FormClient, state: string): Promise<void> {
    const answer = await browser.get(`/customer/remember?state=${state}`);
    expect(answer.statusCode, answer.body).toBe(200);
  }

  async function signOut(browser: FormClient): Promise<void> {
    await browser.get("/profile");
    expect((await browser.post("/logout")).statusCode).toBe(303);
  }

  it("after A signs out, B on the same browser never hands the application A's cookie, not even one the browser kept; A's own comes back while nobody else signed in", async () => {
    const a = await addUser(t.deps, { loginId: "shared.a" });
    const b = await addUser(t.deps, { loginId: "shared.b" });
    const browser = new FormClient(t.app);
    await signInFully(browser, t.smtp, a);
    await remember(browser, "A-state");
    expect(await seenByApplication(browser)).toEqual({ loginId: "shared.a", cookie: "app_session=A-state" });
    // In the browser the cookie's name carries its user's tag; the application sees the name it set.
    const ofA = [...browser.cookies].filter(([name]) => name.startsWith("app_session"));
    expect(ofA).toEqual([[expect.stringMatching(/^app_session\.[A-Za-z0-9_-]{12}$/), "A-state"]]);
    await signOut(browser);
    await signInFully(browser, t.smtp, a);
    expect(await seenByApplication(browser)).toEqual({ loginId: "shared.a", cookie: "app_session=A-state" });
    await signOut(browser);

    // B's sign-in expires A's cookie; a browser that still sends it gets nothing of A's to the application.
    await signInFully(browser, t.smtp, b);
    expect(browser.cookies.has(ofA[0]![0])).toBe(false);
    browser.cookies.set(...ofA[0]!);
    expect(await seenByApplication(browser)).toEqual({ loginId: "shared.b", cookie: null });
    await remember(browser, "B-state");
    expect(await seenByApplication(browser)).toEqual({ loginId: "shared.b", cookie: "app_session=B-state" });
    await signOut(browser);

    // A's next sign-in expires B's in turn; A's own, which this browser kept, is hers again.
    await signInFully(browser, t.smtp, a);
    expect(await seenByApplication(browser)).toEqual({ loginId: "shared.a", cookie: "app_session=A-state" });
    expect([...browser.cookies].filter(([name]) => name.startsWith("app_session"))).toEqual(ofA);
  });

  it.each([
    ["idle past FAMOS_SESSION_IDLE", async () => t.clock.advance(31 * 60_000)],
    [
      "in use past FAMOS_SESSION_MAX",
      async (browser: FormClient) => {
        // A request every 29 minutes keeps the session from idling; 25 of them pass the 12 hours.
        for (let i = 0; i < 25; i++) {
          t.clock.advance(29 * 60_000);
          await browser.get("/customer/diagnostics");
        }
      },
    ],
  ])("the same when A's session was not signed out but ended %s", async (_how, lapse) => {
    const a = await addUser(t.deps);
    const b = await addUser(t.deps);
    const browser = new FormClient(t.app);
    await signInFully(browser, t.smtp, a);
    await remember(browser, "A-state");
    expect((await seenByApplication(browser)).cookie).toBe("app_session=A-state");
    await lapse(browser);
    // "ended=1" when this request found the session lapsed; the last of the MAX case's requests found it first.
    expect((await browser.get("/customer/diagnostics")).headers.location).toMatch(/^\/login\?returnTo=%2Fcustomer%2Fdiagnostics(&ended=1)?$/);

    await signInFully(browser, t.smtp, b);
    expect(await seenByApplication(browser)).toEqual({ loginId: b.login_id, cookie: null });
    await remember(browser, "B-state");
    expect(await seenByApplication(browser)).toEqual({ loginId: b.login_id, cookie: "app_session=B-state" });
  });

  /**
   * Shared PCs: each user who signs in leaves her tagged application cookies in the browser, which sends
   * them all on every request; with enough users the Cookie header outgrows what nginx or Node accepts
   * and every request from that PC is refused. A completed sign-in expires the other users' ones.
   */
  describe("a sign-in expires the application cookies other users left in the browser", () => {
    const tagOf = (user: { id: string }) => applicationCookieTag(t.deps.keys.appCookie, user.id);
    /** The application cookies the browser holds: names ending in "." and a tag, FAMOS's own aside. */
    const applicationCookiesHeld = (browser: FormClient) => [...browser.cookies.keys()].filter((name) => /\.[A-Za-z0-9_-]{12}$/.test(name) && !/famos_/.test(name)).sort();

    /** Signed in, the application's cookies set for her (app_session, __Host-prefs, theme), signed out. */
    async function leaveCookies(browser: FormClient, user: Parameters<typeof signInFully>[2]): Promise<void> {
      await signInFully(browser, t.smtp, user);
      await remember(browser, "mine");
      expect((await browser.get("/customer/prefs")).statusCode).toBe(200);
      await signOut(browser);
    }

    it("the code step's answer expires A's cookies; FAMOS's own, an untagged one and B's own application cookie stay", async () => {
      const a = await addUser(t.deps);
      const b = await addUser(t.deps);
      const browser = new FormClient(t.app);
      await leaveCookies(browser, a);
      const ofA = [`__Host-prefs.${tagOf(a)}`, `app_session.${tagOf(a)}`, `theme.${tagOf(a)}`];
      expect(applicationCookiesHeld(browser)).toEqual(ofA);
      browser.cookies.set("lb_sticky", "1");

      // B's password alone does not end A's cookies: only the sign-in's last step does.
      const { code } = await signIn({ mailbox: smtpMailbox(t.smtp) }, { user: b, client: browser, until: "otp", page: null });
      expect(applicationCookiesHeld(browser)).toEqual(ofA);
      const answer = await browser.post("/otp", { code: code! });
      expect(answer.statusCode).toBe(303);
      expect(answer.headers["set-cookie"]).toEqual(
        expect.arrayContaining([`__Host-prefs.${tagOf(a)}=; Max-Age=0; Path=/; Secure`, `app_session.${tagOf(a)}=; Max-Age=0; Path=/`, `theme.${tagOf(a)}=; Max-Age=0; Path=/`]),
      );
      expect(applicationCookiesHeld(browser)).toEqual([]);
      expect([...browser.cookies.keys()].sort()).toEqual(["famos_csrf", "famos_device", "famos_section", "famos_session", "lb_sticky"]);

      await remember(browser, "B-state");
      expect(await seenByApplication(browser)).toEqual({ loginId: b.login_id, cookie: "app_session=B-state" });
      expect(applicationCookiesHeld(browser)).toEqual([`app_session.${tagOf(b)}`]);
    });

    it("the authenticator app's answer does the same", async () => {
      const a = await addUser(t.deps);
      const b = await addUser(t.deps);
      const secret = await addConfirmedApp(t.deps, b.id);
      const browser = new FormClient(t.app);
      await leaveCookies(browser, a);
      expect(applicationCookiesHeld(browser)).toHaveLength(3);

      expect((await browser.get("/login")).statusCode).toBe(200);
      expect((await browser.post("/login", { loginId: b.login_id, password: b.password })).headers.location).toBe("/otp");
      await browser.get("/otp/app");
      nextStep(t);
      const answer = await browser.post("/otp/app", { code: await appCode(secret, t.clock.now()) });
      expect(answer.statusCode, answer.body).toBe(303);
      expect(applicationCookiesHeld(browser)).toEqual([]);
      expect(browser.cookies.has("famos_session")).toBe(true);
    });

    it("twenty users signing in one after another in one browser leave only the last one's application cookies in it", async () => {
      const browser = new FormClient(t.app);
      let last: Awaited<ReturnType<typeof addUser>> | undefined;
      for (let i = 0; i < 20; i++) {
        last = await addUser(t.deps);
        await leaveCookies(browser, last);
        expect(applicationCookiesHeld(browser)).toEqual([`__Host-prefs.${tagOf(last)}`, `app_session.${tagOf(last)}`, `theme.${tagOf(last)}`]);
      }
      await signInFully(browser, t.smtp, last!);
      expect(await seenByApplication(browser)).toEqual({ loginId: last!.login_id, cookie: "app_session=mine; __Host-prefs=compact; theme=dark" });
    });
  });
});

describe("reverse proxy when the application is down", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: `http://127.0.0.1:${await closedPort()}` } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => t.close());

  it("answers 502 with a clear page in the portal frame, no error detail", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const page = await client.get("/vehicle/stock?page=2");
    expect(page.statusCode).toBe(502);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain("<h1>Application not available</h1>");
    expect(page.body).toContain("The Vehicle section is not available at the moment.");
    expect(page.body).toContain("Sign out");
    expect(page.body).not.toMatch(/ECONNREFUSED|Error:|at .*\.js|127\.0\.0\.1/);
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(page.headers["cache-control"]).toBe("no-store");

    const api = await t.app.inject({ method: "GET", url: "/vehicle", headers: { cookie: client.cookieHeader(), accept: "application/json" } });
    expect(api.statusCode).toBe(502);
    expect(JSON.parse(api.body)).toEqual({ statusCode: 502, error: "The Vehicle section is not available at the moment." });

    // A form sent while the application is down gets the page too, over a real connection.
    const { port } = t.app.server.address() as AddressInfo;
    const posted = await fetch(`http://127.0.0.1:${port}/quotation`, {
      method: "POST",
      body: `customer=x&notes=${"y".repeat(200_000)}`,
      headers: { cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
    });
    expect(posted.status).toBe(502);
    expect(await posted.text()).toContain("If you were sending a form, it may not have reached the application");
  });
});

/** A GET with headers given as raw name/value pairs (repeats and case kept, as on the wire). */
function rawGet(port: number, path: string, headers: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path, method: "GET", headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

/** The HTTP status a refused WebSocket handshake got. */
function refusedHandshake(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on("open", () => reject(new Error("handshake was accepted")));
    socket.on("error", () => undefined);
  });
}
