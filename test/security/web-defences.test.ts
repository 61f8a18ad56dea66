import Tokens from "@fastify/csrf";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookieSigner } from "../../src/web/cookie-signer.ts";
import { acceptReturnTo } from "../../src/web/return-to.ts";
import type { Config } from "../../src/config/config.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { atChoosePassword, atCode, atEnrolment, concreteUrl, signedIn, snapshot } from "./helpers.ts";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The routes that skip FAMOS's CSRF token other than those handing requests to the protected application. */
function exemptOutsideSections(routes: TestApp["app"]["famosRoutes"], config: Readonly<Config>): string[] {
  return routes
    .filter((r) => r.config.csrf === false)
    .filter((r) => !config.sections.some((s) => r.url === s.path || r.url.startsWith(`${s.path}/`)))
    .map((r) => `${r.method} ${r.url}`);
}
const CSRF_REFUSED = "This form has expired or did not come from FAMOS";

/** SPEC "Forms"; ASVS 4.0.3 4.2.2, 5.1.5, 14.3.3, 14.4.x, 14.5.1. */
describe("web defences", () => {
  let t: TestApp;
  let admin: FormClient;
  beforeAll(async () => {
    t = await createTestApp();
    admin = (await signedIn(t, "admin")).client;
  });
  afterAll(async () => t.close());

  const stateChanging = () => t.app.famosRoutes.filter((r) => STATE_CHANGING.has(r.method));

  it("ASVS 4.2.2: every state-changing route (enumerated from Fastify) refuses a request without a CSRF token, or with another browser's, and changes nothing", async () => {
    const other = new FormClient(t.app, "192.0.2.99");
    await other.get("/login");
    const routes = stateChanging().filter((r) => r.config.csrf !== false);
    expect(routes.map((r) => r.url)).toEqual(expect.arrayContaining(["/login", "/otp", "/enrol", "/logout", "/profile/sessions/:id/end", "/profile/sessions/end-others"]));
    const before = await snapshot(t.deps.db);
    for (const route of routes) {
      const url = concreteUrl(route.url);
      const missing = await admin.post(url, { code: "123456", loginId: "x", password: "y" }, { csrf: false });
      expect(missing.statusCode, `${route.method} ${route.url} without a token`).toBe(403);
      expect(missing.body).toContain(CSRF_REFUSED);
      const foreign = await admin.post(url, { code: "123456" }, { csrf: other.csrf! });
      expect(foreign.statusCode, `${route.method} ${route.url} with another browser's token`).toBe(403);
      const forged = await admin.post(url, {}, { csrf: "forged-token-value" });
      expect(forged.statusCode, `${route.method} ${route.url} with a forged token`).toBe(403);
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    expect((await admin.get("/profile")).statusCode).toBe(200);
  });

  it("ASVS 4.2.2 / RFC 9110 9.2.1: no GET changes anything stored, at any step (every GET route, enumerated), so no link or image on another site can act for a user", async () => {
    const user = await addUser(t.deps);
    const clients: Array<[string, FormClient]> = [
      ["signed out", new FormClient(t.app)],
      ["at User profile", (await atEnrolment(t)).client],
      ["at OTP capture", (await atCode(t)).client],
      ["admin", admin],
    ];
    const changed: string[] = [];
    for (const [who, client] of clients) {
      for (const route of t.app.famosRoutes.filter((r) => r.method === "GET")) {
        const before = await snapshot(t.deps.db);
        await client.get(concreteUrl(route.url.replace(/:id\b/, user.id)));
        if (JSON.stringify(await snapshot(t.deps.db)) !== JSON.stringify(before)) changed.push(`${who}: GET ${route.url}`);
      }
    }
    expect(changed).toEqual([]);
  });

  it("ASVS 4.2.2 (signed double submit): a CSRF cookie planted with the attacker's own secret is refused, however it is signed", async () => {
    // A sibling host or a man in the middle of plain HTTP can set a cookie; it cannot sign one with FAMOS_SECRET.
    const user = await addUser(t.deps);
    const secret = Tokens().secretSync();
    const token = Tokens().create(secret);
    const planted = {
      unsigned: secret,
      "signed with another key": cookieSigner(Buffer.alloc(32, 7)).sign(secret),
      "with a made-up signature": `${secret}.${"A".repeat(43)}`,
      "with an empty signature": `${secret}.`,
    };
    const before = await snapshot(t.deps.db);
    for (const [how, value] of Object.entries(planted)) {
      const victim = new FormClient(t.app, "192.0.2.98");
      await victim.get("/login");
      victim.cookies.set("famos_csrf", value);
      const response = await victim.post("/login", { loginId: user.login_id, password: user.password }, { csrf: token });
      expect(response.statusCode, `a planted cookie ${how}`).toBe(403);
      expect(response.body).toContain(CSRF_REFUSED);
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    // The browser's own signed cookie and a token from it are accepted.
    const own = new FormClient(t.app, "192.0.2.98");
    await own.get("/login");
    expect((await own.post("/login", { loginId: user.login_id, password: user.password })).statusCode).toBe(303);
  });

  it("OWASP CSRF cheat sheet (Origin check): a state-changing request from another origin is refused even with a valid token", async () => {
    await admin.get("/profile");
    const before = await snapshot(t.deps.db);
    for (const route of stateChanging()) {
      for (const origin of ["https://evil.example", "null", "http://localhost.evil.example"]) {
        const response = await admin.post(concreteUrl(route.url), {}, { headers: { origin } });
        expect(response.statusCode, `${route.method} ${route.url} from ${origin}`).toBe(403);
      }
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    // The same form from FAMOS's own origin is accepted.
    const own = await admin.post("/logout", {}, { headers: { origin: "http://localhost:80" } });
    expect(own.statusCode).toBe(303);
    admin = (await signedIn(t, "admin")).client;
  });

  it("ASVS 4.2.2: only routes that hand requests to the protected application skip FAMOS's token", async () => {
    // This app has no FAMOS_UPSTREAM_URL and no webhook secret: nothing at all skips the token.
    expect(t.app.famosRoutes.filter((r) => r.config.csrf === false)).toEqual([]);
  });

  /** GET pages FAMOS itself renders, signed out and signed in, including error pages. */
  async function pages(): Promise<Array<[string, LightMyRequestResponse]>> {
    const out: Array<[string, LightMyRequestResponse]> = [];
    const anonymous = new FormClient(t.app, "192.0.2.30");
    for (const url of ["/login", "/wrong-email", "/legal", "/no-such-page"]) out.push([url, await anonymous.get(url)]);
    for (const route of t.app.famosRoutes.filter((r) => r.method === "GET")) {
      const url = concreteUrl(route.url);
      out.push([`${url} (admin)`, await admin.get(url)]);
    }
    const forbidden = await signedIn(t, "user", "192.0.2.31");
    out.push(["/support (user: 403)", await forbidden.client.get("/support")]);
    // The steps' own pages, which an admin's full session only sees as redirects: User profile, OTP
    // capture (the code a framing site would most like to have typed), its other factors, and Choose a
    // new password, each at its step.
    const steps: Array<[FormClient, string[]]> = [
      [(await atEnrolment(t, "192.0.2.32")).client, ["/enrol"]],
      [(await atCode(t, undefined, "192.0.2.33")).client, ["/otp", "/otp/app", "/otp/recovery"]],
      [(await atChoosePassword(t, "192.0.2.34")).client, ["/choose-password"]],
    ];
    for (const [client, urls] of steps) {
      for (const url of urls) {
        const response = await client.get(url);
        expect(response.statusCode, url).toBe(200);
        out.push([`${url} (at its step)`, response]);
      }
    }
    return out;
  }

  it("ASVS 14.4.3 / 14.4.7: every FAMOS page has a CSP without inline script, frame-ancestors 'none' and X-Frame-Options DENY (clickjacking)", async () => {
    for (const [name, response] of await pages()) {
      if (!String(response.headers["content-type"]).startsWith("text/html")) continue;
      const csp = String(response.headers["content-security-policy"]);
      const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
      expect(directives.get("default-src"), name).toEqual(["'none'"]);
      expect(directives.get("script-src"), name).toEqual(["'self'"]);
      expect(directives.get("frame-ancestors"), name).toEqual(["'none'"]);
      expect(directives.get("base-uri"), name).toEqual(["'none'"]);
      expect(directives.get("form-action")?.[0], name).toBe("'self'");
      expect(csp, name).not.toMatch(/unsafe-inline|unsafe-eval/);
      for (const [directive, sources] of directives) expect(sources, `${name}: ${directive}`).not.toContain("*");
      expect(response.headers["x-frame-options"], name).toBe("DENY");
      // No inline script, event handler or style attribute that the CSP would have to allow.
      expect(response.body, name).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(response.body, name).not.toMatch(/\son[a-z]+\s*=/i);
      expect(response.body, name).not.toMatch(/\sstyle\s*=/i);
    }
  });

  it("ASVS 14.4.1 / 14.4.4 / 14.4.6 / 8.2.1: pages carry a charset, nosniff, a strict Referrer-Policy and Cache-Control: no-store; no HSTS over plain HTTP", async () => {
    for (const [name, response] of await pages()) {
      if (!String(response.headers["content-type"]).startsWith("text/html")) continue;
      expect(response.headers["content-type"], name).toBe("text/html; charset=utf-8");
      expect(response.headers["x-content-type-options"], name).toBe("nosniff");
      expect(response.headers["referrer-policy"], name).toBe("same-origin");
      expect(response.headers["cache-control"], name).toBe("no-store");
      expect(response.headers["strict-transport-security"], name).toBeUndefined();
    }
  });

  it("ASVS 14.3.3: no answer discloses server or framework versions (no Server, no X-Powered-By), errors and static files included", async () => {
    const responses = (await pages()).map(([, r]) => r);
    responses.push(await t.app.inject({ method: "GET", url: "/static/famos.css" }));
    responses.push(await t.app.inject({ method: "GET", url: "/healthz" }));
    responses.push(await t.app.inject({ method: "POST", url: "/login", payload: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } }));
    responses.push(await t.app.inject({ method: "POST", url: "/login", payload: "<x/>", headers: { "content-type": "application/xml" } }));
    for (const response of responses) {
      expect(response.headers.server).toBeUndefined();
      expect(response.headers["x-powered-by"]).toBeUndefined();
      expect(response.body).not.toMatch(/fastify|node\.js|v\d+\.\d+\.\d+|stack|at [\w.]+ \(/i);
    }
  });

  it("ASVS 14.5.1: each path answers only the methods it uses — any other method is 405 with Allow naming those (RFC 9110) and reaches no handler", async () => {
    const byPath = new Map<string, Set<string>>();
    for (const r of t.app.famosRoutes) byPath.set(r.url, (byPath.get(r.url) ?? new Set()).add(r.method));
    const before = await snapshot(t.deps.db);
    let checked = 0;
    for (const [path, methods] of byPath) {
      if (methods.has("ALL") || path.includes("*")) continue;
      for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"] as const) {
        if (methods.has(method)) continue;
        const response = await t.app.inject({ method, url: concreteUrl(path), headers: { cookie: admin.cookieHeader() } });
        expect(response.statusCode, `${method} ${path}`).toBe(405);
        const allow = new Set(String(response.headers.allow).split(", "));
        for (const own of methods) expect(allow.has(own), `${method} ${path}: Allow ${String(response.headers.allow)}`).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(await snapshot(t.deps.db)).toEqual(before);
  });

  const PAYLOADS = [
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example",
    "http://evil.example/profile",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/..//evil.example",
    "/%2e%2e//evil.example",
    "/./\\evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "https:evil.example",
    "https:/evil.example",
    "//localhost@evil.example",
    "https://localhost.evil.example",
    "https://localhost:80@evil.example",
  ];

  it("ASVS 5.1.5: open redirect payloads are never accepted as a return address", () => {
    for (const payload of PAYLOADS) {
      const accepted = acceptReturnTo(t.deps, payload);
      if (accepted === null) continue;
      expect(accepted, payload).toMatch(/^\/(?![/\\])/);
      expect(new URL(accepted, "http://famos.invalid").origin, payload).toBe("http://famos.invalid");
    }
    expect(acceptReturnTo(t.deps, "/profile?tab=1#x")).toBe("/profile?tab=1#x");
  });

  it("ASVS 5.1.5: after the code, a hostile returnTo sends the user to the portal, a same-site one to that page", async () => {
    const cases: Array<[string, string]> = [...PAYLOADS.map((p): [string, string] => [p, "/"]), ["/profile", "/profile"]];
    for (const [payload, expected] of cases) {
      const user = await addUser(t.deps); // one each: a user gets at most 10 codes an hour
      const client = new FormClient(t.app, "192.0.2.40");
      const loginPage = await client.get(`/login?returnTo=${encodeURIComponent(payload)}`);
      expect(loginPage.body).not.toContain("evil.example");
      const before = t.smtp.messages.length;
      await client.post("/login", { loginId: user.login_id, password: user.password, returnTo: payload });
      const code = await nextCode(t.smtp, user.otp_email!, before);
      await client.get("/otp");
      const done = await client.post("/otp", { code });
      expect(done.statusCode, payload).toBe(303);
      expect(done.headers.location, payload).toBe(expected);
    }
  });

  it("ASVS 5.1.5: the address a signed-out visitor asked for is kept through sign-in", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app, "192.0.2.41");
    const bounced = await client.get("/profile");
    expect(bounced.headers.location).toBe("/login?returnTo=%2Fprofile");
    await client.get(bounced.headers.location as string);
    const before = t.smtp.messages.length;
    const password = await client.post("/login", { loginId: user.login_id, password: user.password, returnTo: "/profile" });
    expect(password.headers.location).toBe("/otp");
    const code = await nextCode(t.smtp, user.otp_email!, before);
    await client.get("/otp");
    expect((await client.post("/otp", { code })).headers.location).toBe("/profile");
  });

  it("ASVS 13.2.5 / 4.2.2: only form bodies FAMOS expects are read; other content types are refused with 415", async () => {
    const client = new FormClient(t.app, "192.0.2.42");
    await client.get("/login");
    const xml = await t.app.inject({
      method: "POST",
      url: "/login",
      payload: "<login/>",
      headers: { "content-type": "text/xml", cookie: client.cookieHeader() },
    });
    expect(xml.statusCode).toBe(415);
    expect((await submitPassword(client, "nobody", "x")).statusCode).toBe(401);
  });
});

/**
 * With FAMOS_BOUNCE_WEBHOOK_SECRET set, `POST /hooks/bounce` takes JSON from mail providers and
 * skips the CSRF token: the shared secret, as a bearer token, is its proof (ASVS 4.2.2 does not apply
 * to a request no browser sends with the user's cookies). It is the one exemption besides the
 * protected application's, and without the right secret it refuses and writes nothing.
 */
describe("web defences with the bounce webhook on (unit tier)", () => {
  const SECRET = "w".repeat(40);
  let u: UnitApp;
  beforeAll(async () => {
    // With a protected application too (never reached here), so both kinds of exemption are present.
    u = await createUnitApp({ env: { FAMOS_BOUNCE_WEBHOOK_SECRET: SECRET, FAMOS_UPSTREAM_URL: "http://127.0.0.1:9" } });
  });
  afterAll(async () => u.close());

  const report = JSON.stringify({ messageId: "<no-such-message@famos.test>", type: "hard", status: "5.1.1" });
  const hook = (authorization?: string) =>
    u.app.inject({ method: "POST", url: "/hooks/bounce", payload: report, headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) } });

  it("ASVS 4.2.2: the webhook is the only route besides the protected application's that skips FAMOS's token", () => {
    expect(u.app.famosRoutes.filter((r) => r.config.csrf === false).length).toBeGreaterThan(1);
    expect(exemptOutsideSections(u.app.famosRoutes, u.config)).toEqual(["POST /hooks/bounce"]);
  });

  it("ASVS 4.2.2: the webhook refuses a request without the right bearer secret, and writes nothing", async () => {
    const before = await snapshot(u.deps.db);
    for (const authorization of [undefined, "", "Bearer ", `Bearer ${SECRET.slice(1)}`, `Bearer ${SECRET}x`, `Basic ${SECRET}`, SECRET]) {
      const response = await hook(authorization);
      expect(response.statusCode, `Authorization: ${String(authorization)}`).toBe(401);
    }
    expect(await snapshot(u.deps.db)).toEqual(before);
    // The right secret, with no CSRF cookie or token, is taken: a report of a message FAMOS never sent.
    const taken = await hook(`Bearer ${SECRET}`);
    expect(taken.statusCode).toBe(200);
    expect(taken.json()).toEqual({ recorded: 0, duplicates: 0, unknown: 1 });
  });
});
