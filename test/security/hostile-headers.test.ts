import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";
import { concreteUrl } from "./helpers.ts";

/**
 * SPEC "Bad input": headers a browser would never send — a Host that is no host name, forwarded
 * headers full of junk, a language list of garbage, cookies that are not FAMOS's — are answered
 * below 500 on every route, and the server goes on serving. Fastify reads Host and X-Forwarded-*
 * into request.host and request.protocol, which FAMOS builds origins from.
 */
const SWEPT_HOSTS = ["a b", "localhost:99999", "user@evil.example", "x".repeat(1000)];

const ODD_HEADERS: Array<Record<string, string>> = [
  // The Host values that tell most apart (unparseable, bad port, credentials, over-long), four each way.
  ...SWEPT_HOSTS.map((host) => ({ host })),
  ...SWEPT_HOSTS.map((host) => ({ "x-forwarded-host": host, "x-forwarded-proto": "http", "x-forwarded-uri": "/%FF%ED%A0%80" })),
  { "x-forwarded-for": "not-an-address, , ::::", "x-forwarded-proto": "javascript" },
  { "accept-language": "*;q=abc, ;;, -,, zz-ZZZZZZZZZZ;q=1e999, en-GB;q=NaN, de;q=-1" },
  { "accept-language": "en-GB;q=0.5,".repeat(1_000) },
  { cookie: "famos_session=%; famos_csrf=%E0%A4%A; famos_lang=__proto__; famos_device=;;;=;" },
  { cookie: `famos_session=${"A".repeat(8000)}; famos_lang=constructor` },
  { accept: "application/json;q=abc, */*" },
];

describe("odd request headers", () => {
  let t: TestApp;
  let full: FormClient;
  let otp: FormClient;
  beforeAll(async () => {
    // Trusting the test's own address, so X-Forwarded-Host and -Proto become request.host and .protocol.
    t = await createTestApp({ env: { FAMOS_TRUST_PROXY: "127.0.0.1", FAMOS_LOCK_AFTER: "100000" } });
    full = (await signIn(t, { role: "admin" })).client;
    otp = (await signIn(t, { until: "otp" })).client;
  });
  afterAll(async () => t.close());

  const send = (client: FormClient, method: "GET" | "POST", url: string, headers: Record<string, string>, form?: Record<string, string>): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method,
      url,
      remoteAddress: client.ip,
      headers: { cookie: client.cookieHeader(), ...(form ? { "content-type": "application/x-www-form-urlencoded", accept: "application/json" } : {}), ...headers },
      ...(form ? { payload: new URLSearchParams({ ...form, _csrf: client.csrf! }).toString() } : {}),
    });

  it("a Host that is not a plain host[:port] gets 400 from every passkey ceremony (the relying party is read from it), never 500", async () => {
    const ceremonies: Array<[FormClient, string, Record<string, string>]> = [
      [full, "/profile/passkeys/options", { name: "Laptop" }],
      [full, "/profile/passkeys", { name: "Laptop", credential: "{}" }],
      [otp, "/otp/passkey/options", {}],
      [otp, "/otp/passkey", { credential: "{}" }],
    ];
    // Unparseable, or parsed by the URL rules into a host it does not plainly name: "user@evil.example"
    // is evil.example with credentials, "evil.example/x" is evil.example with a path.
    const notHosts = ["a b", "[::1", "localhost:99999", ":80", "%ff", "user@evil.example", "user:pw@evil.example", "evil.example/x", "evil.example\\x", "evil.example?x", "evil.example#x"];
    for (const host of notHosts) {
      for (const [client, url, form] of ceremonies) {
        for (const headers of [{ host }, { "x-forwarded-host": host }] as Array<Record<string, string>>) {
          const response = await send(client, "POST", url, headers, form);
          expect(response.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(400);
          expect(response.json(), url).toEqual({ error: "The address of this request is not valid.", statusCode: 400 });
        }
      }
    }
    // Still at OTP capture, and the ceremonies work with a real host, the relying party named after it.
    expect((await send(full, "POST", "/profile/passkeys/options", {}, { name: "Laptop" })).statusCode).toBe(200);
    for (const [host, rpId] of [["Famos.Example:8080", "famos.example"], ["127.0.0.1:3000", "127.0.0.1"], ["famos_web", "famos_web"]]) {
      const options = await send(full, "POST", "/profile/passkeys/options", { host: host! }, { name: "Laptop" });
      expect(options.statusCode, host).toBe(200);
      expect(options.body, host).toContain(`"id":"${rpId}"`);
    }
    expect((await otp.get("/otp")).statusCode).toBe(200);
  });

  it("every route (enumerated from Fastify) answers each odd header below 500, and the server goes on serving", async () => {
    const failures: string[] = [];
    let sent = 0;
    for (const route of t.app.famosRoutes) {
      if (route.method !== "GET" && route.method !== "POST") continue;
      const client = route.config.access === "otp" ? otp : full;
      for (const headers of ODD_HEADERS) {
        // A form with the token and a field no form has: every hook runs (session, language, Origin,
        // token), then the handler refuses it before acting, so the clients stay where they are.
        const response = await send(client, route.method, concreteUrl(route.url), headers, route.method === "POST" ? { unexpected: "1" } : undefined);
        sent += 1;
        if (response.statusCode >= 500 || /\n\s+at /.test(response.body)) failures.push(`${route.method} ${route.url} ${JSON.stringify(headers).slice(0, 80)}: ${response.statusCode}`);
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(1000);
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await full.get("/profile")).statusCode).toBe(200);
  });
});
