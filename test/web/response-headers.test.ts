import { ServerResponse } from "node:http";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp } from "../support/client.ts";

/**
 * The exact headers and cookie attributes of every answer of a sign-in, on the wire (issue 17: the
 * security headers are computed once, without @fastify/helmet's hooks, and cookies are signed and
 * serialised by FAMOS's own code): a header added, dropped or changed in value, or a cookie attribute
 * (HttpOnly, Secure, SameSite, Path, Max-Age) changed, fails here by name.
 */
const CSP = (formAction: string, https: boolean) =>
  `default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';form-action ${formAction};frame-ancestors 'none';base-uri 'none'${https ? ";upgrade-insecure-requests" : ""}`;

/** Helmet's set and FAMOS's own, on every page and redirect. */
function securityHeaders(formAction: string, https: boolean): Record<string, string> {
  return {
    "cache-control": "no-store",
    "content-security-policy": CSP(formAction, https),
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "origin-agent-cluster": "?1",
    "referrer-policy": "same-origin",
    ...(https ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
    "x-content-type-options": "nosniff",
    "x-dns-prefetch-control": "off",
    "x-download-options": "noopen",
    "x-frame-options": "DENY",
    "x-permitted-cross-domain-policies": "none",
    "x-xss-protection": "0",
  };
}

/** Headers whose value changes per answer: their form only. */
const VARYING: Record<string, RegExp> = {
  date: /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  "content-length": /^\d+$/,
  connection: /^keep-alive$/,
};
/** What Node adds on a real connection (inject has the Connection header only). */
const CONNECTION: Record<string, RegExp> = { "keep-alive": /^timeout=\d+$/ };

type Step = { method: "GET" | "POST"; url: string; status: number; location?: string; html: boolean; cookies: string[] };

/** Each cookie's line with its value replaced by <value>. */
function cookieShapes(answer: LightMyRequestResponse): string[] {
  const raw = answer.headers["set-cookie"];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return lines.map((line) => line.replace(/^([^=]+)=[^;]*/, "$1=<value>"));
}

function expectExactly(step: Step, answer: LightMyRequestResponse, formAction: string, https: boolean, wire: boolean): void {
  const where = `${step.method} ${step.url}`;
  expect(answer.statusCode, where).toBe(step.status);
  const fixed: Record<string, string> = {
    ...securityHeaders(formAction, https),
    ...(step.location ? { location: step.location } : {}),
    ...(step.html ? { "content-type": "text/html; charset=utf-8" } : {}),
  };
  const varying = { ...VARYING, ...(wire ? CONNECTION : {}) };
  const names = Object.keys(answer.headers).sort();
  expect(names, where).toEqual([...Object.keys(fixed), ...Object.keys(varying), ...(step.cookies.length ? ["set-cookie"] : [])].sort());
  for (const [name, value] of Object.entries(fixed)) expect(`${name}: ${String(answer.headers[name])}`, where).toBe(`${name}: ${value}`);
  for (const [name, form] of Object.entries(varying)) expect(String(answer.headers[name]), `${where} ${name}`).toMatch(form);
  expect(cookieShapes(answer), where).toEqual(step.cookies);
}

for (const https of [false, true]) {
  // Plain HTTP over a real connection; the HTTPS public URL in process (the Origin check wants https://famos.test).
  describe(`a sign-in's answers, header by header and cookie by cookie (${https ? "HTTPS public URL, in process" : "plain HTTP, on the wire"})`, () => {
    let t: TestApp;
    let client: FormClient;
    let stranger: FormClient;
    let formAction: string;
    beforeAll(async () => {
      t = await createTestApp(https ? { env: { FAMOS_PUBLIC_URL: "https://famos.test" } } : {});
      const target = https ? t.app : overHttp(await listen(t));
      client = new FormClient(target);
      stranger = new FormClient(target);
      formAction = https ? "'self' https://famos.test:*" : "'self' http://localhost:*";
    });
    afterAll(async () => t.close());

    const name = (plain: string) => (https ? `__Host-${plain}` : plain);
    const attributes = `Path=/; HttpOnly;${https ? " Secure;" : ""} SameSite=Lax`;
    const session = `${name("famos_session")}=<value>; ${attributes}`;
    const csrf = `${name("famos_csrf")}=<value>; ${attributes}`;
    const device = `${name("famos_device")}=<value>; Max-Age=31536000; ${attributes}`;

    it("GET /login, POST /login, GET /otp, POST /otp, GET /, GET /profile: the same security headers on each, and only the cookies each step sets", async () => {
      expect(formAction).toBeTruthy();
      const user = await addUser(t.deps);
      const mark = await t.mailbox.mark();
      const steps: Array<[Step, () => Promise<LightMyRequestResponse>]> = [
        [{ method: "GET", url: "/login", status: 200, html: true, cookies: [csrf] }, () => client.get("/login")],
        [{ method: "POST", url: "/login", status: 303, location: "/otp", html: false, cookies: [session, csrf] }, () => client.post("/login", { loginId: user.login_id, password: user.password })],
        [{ method: "GET", url: "/otp", status: 200, html: true, cookies: [] }, () => client.get("/otp")],
        [{ method: "POST", url: "/otp", status: 303, location: "/", html: false, cookies: [session, csrf, device] }, async () => client.post("/otp", { code: await t.mailbox.code(user.otp_email!, mark) })],
        [{ method: "GET", url: "/", status: 200, html: true, cookies: [] }, () => client.get("/")],
        [{ method: "GET", url: "/profile", status: 200, html: true, cookies: [] }, () => client.get("/profile")],
      ];
      for (const [step, ask] of steps) expectExactly(step, await ask(), formAction, https, !https);
    });

    it("a page FAMOS does not have (404) carries the same security headers; /auth/nginx (helmet: false) carries none of helmet's", async () => {
      const missing = await stranger.get("/no-such-page");
      expect(missing.statusCode).toBe(404);
      for (const [header, value] of Object.entries(securityHeaders(formAction, https))) expect(`${header}: ${String(missing.headers[header])}`).toBe(`${header}: ${value}`);
      const nginx = await stranger.get("/auth/nginx");
      expect(nginx.statusCode).toBe(401);
      const helmets = Object.keys(securityHeaders(formAction, https)).filter((h) => h !== "cache-control" && h !== "strict-transport-security");
      expect(helmets.filter((h) => nginx.headers[h] !== undefined)).toEqual([]);
    });
  });
}

// Over a real connection: light-my-request's answers (inject) start with a header of their own, so
// there Node always keeps Fastify's headers one by one, whoever sets them.
describe("the security headers on the wire", () => {
  let t: TestApp;
  let stranger: FormClient;
  beforeAll(async () => {
    t = await createTestApp();
    stranger = new FormClient(overHttp(await listen(t)));
  });
  afterAll(async () => t.close());

  it("are the reply's own: Node's response gets no header one by one (setHeader), on a page, a refused form or a 404", async () => {
    // Issue 17: set on Node's response, each header took an entry of its own there and made Fastify
    // add its own headers one by one too (~10 KB of garbage per sign-in); the values are checked above.
    const named: string[] = [];
    const setHeader = ServerResponse.prototype.setHeader;
    ServerResponse.prototype.setHeader = function (this: ServerResponse, name: string, value: number | string | readonly string[]) {
      named.push(name);
      return setHeader.call(this, name, value);
    };
    try {
      expect((await stranger.get("/login")).statusCode).toBe(200);
      expect((await stranger.post("/login", { loginId: "nobody", password: "wrong password" })).statusCode).toBe(401);
      expect((await stranger.get("/no-such-page")).statusCode).toBe(404);
    } finally {
      ServerResponse.prototype.setHeader = setHeader;
    }
    expect(named).toEqual([]);
  });
});
