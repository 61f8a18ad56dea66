import type { FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpProblem } from "../../src/web/errors.ts";
import { relyingParty } from "../../src/web/origin.ts";
import { FormClient } from "../support/client.ts";
import { createUnitApp, unitConfig, type UnitApp } from "../support/unit-app.ts";

const REFUSED = "This form was sent from another site";

/**
 * OWASP CSRF cheat sheet, "verifying origin with standard headers" (src/web/origin.ts): a form sent
 * with an Origin header is taken only from FAMOS's own origin — scheme, host and port exactly.
 */
async function postWithOrigin(u: UnitApp, origin: string | null, host?: string) {
  const client = new FormClient(u.app, "127.0.0.1", host ? { host } : {});
  await client.get("/login");
  return client.post("/login", { loginId: "nobody", password: "not the password" }, { headers: origin === null ? {} : { origin } });
}

describe("the Origin check with FAMOS_PUBLIC_URL set (https://famos.dealer.example)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_PUBLIC_URL: "https://famos.dealer.example" } });
  });
  afterAll(async () => u.close());

  it("accepts a form from exactly that origin, and one without Origin (older browsers, same-origin GET-less posts)", async () => {
    expect((await postWithOrigin(u, "https://famos.dealer.example")).statusCode).toBe(401);
    expect((await postWithOrigin(u, null)).statusCode).toBe(401);
  });

  it.each([
    ["a longer host starting with it", "https://famos.dealer.example.evil.example"],
    ["its origin as a prefix of another", "https://famos.dealer.example-evil.example"],
    ["another port", "https://famos.dealer.example:8443"],
    ["the default port spelled out is another string", "https://famos.dealer.example:443"],
    ["plain HTTP", "http://famos.dealer.example"],
    ["a sibling host", "https://evil.dealer.example"],
    ["a parent host", "https://dealer.example"],
    ["a host ending with it", "https://evil-famos.dealer.example"],
    ["text ending with it", "xhttps://famos.dealer.example"],
    ["a shorter prefix of it", "https://famos.dealer.exampl"],
    ["the opaque origin", "null"],
    ["an empty Origin", ""],
  ])("refuses %s (%s) with 403, before the form is read", async (_what, origin) => {
    const response = await postWithOrigin(u, origin);
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain(REFUSED);
  });

  it("refuses the request's own host when it is not FAMOS_PUBLIC_URL's (a Host header the attacker chose)", async () => {
    const response = await postWithOrigin(u, "http://evil.example", "evil.example");
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain(REFUSED);
  });
});

describe("the Origin check without FAMOS_PUBLIC_URL: the request's own origin", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  it("accepts a form from the origin of the Host it was sent to", async () => {
    expect((await postWithOrigin(u, "http://famos.local:3000", "famos.local:3000")).statusCode).toBe(401);
  });

  it.each([
    ["a longer host starting with it", "http://famos.local:3000.evil.example"],
    ["another port", "http://famos.local:3001"],
    ["no port", "http://famos.local"],
    ["HTTPS", "https://famos.local:3000"],
    ["another host", "http://evil.example:3000"],
  ])("refuses %s (%s)", async (_what, origin) => {
    const response = await postWithOrigin(u, origin, "famos.local:3000");
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain(REFUSED);
  });

  it("checks GET-less methods only: a page (GET) from another origin is served", async () => {
    const response = await u.app.inject({ method: "GET", url: "/login", headers: { origin: "https://evil.example" } });
    expect(response.statusCode).toBe(200);
  });
});

/**
 * Issue 19.4: the protected application's pages run sandboxed (an opaque origin), so their own form
 * posts arrive with `Origin: null`. That is taken on a section path only, and only as a navigation
 * (`Sec-Fetch-Mode: navigate`, a form being submitted); FAMOS's own forms keep the strict rule.
 */
describe("the Origin check on the protected application's section paths (FAMOS_UPSTREAM_URL set)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    // Nothing listens there: a signed-out visitor is sent to sign in before anything is passed on.
    u = await createUnitApp({ env: { FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_UPSTREAM_URL: "http://127.0.0.1:9" } });
  });
  afterAll(async () => u.close());

  /** A form post to `path` with this Origin and Sec-Fetch-Mode (undefined: the header is not sent). */
  async function post(path: string, origin: string, mode: string | undefined) {
    const client = new FormClient(u.app);
    await client.get("/login");
    const headers: Record<string, string> = { origin, ...(mode === undefined ? {} : { "sec-fetch-mode": mode }) };
    return client.post(path, { loginId: "nobody", password: "not the password" }, { headers });
  }

  it("passes a sandboxed page's own form (Origin null, a navigation) on a section path: here, on to sign in", async () => {
    const response = await post("/quotation/offer", "null", "navigate");
    expect([response.statusCode, response.headers.location]).toEqual([303, "/login"]);
  });

  it("still takes FAMOS's own origin on a section path, whatever the fetch mode", async () => {
    const response = await post("/quotation/offer", "https://famos.dealer.example", "cors");
    expect([response.statusCode, response.headers.location]).toEqual([303, "/login"]);
  });

  it.each([
    ["Origin null on FAMOS's own form, even as a navigation", "/login", "null", "navigate"],
    ["Origin null on a section path from a script (cors)", "/quotation/offer", "null", "cors"],
    ["Origin null on a section path from a script (no-cors)", "/quotation/offer", "null", "no-cors"],
    ["Origin null on a section path without Sec-Fetch-Mode", "/quotation/offer", "null", undefined],
    ["Origin null on a section path with an empty Sec-Fetch-Mode", "/quotation/offer", "null", ""],
    ["another site's form on a section path, as a navigation", "/quotation/offer", "https://evil.example", "navigate"],
    ["an empty Origin on a section path, as a navigation", "/quotation/offer", "", "navigate"],
    ["\"Null\" (not the opaque origin's serialisation) on a section path", "/quotation/offer", "Null", "navigate"],
  ])("refuses %s with 403", async (_what, path, origin, mode) => {
    const response = await post(path, origin, mode);
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain(REFUSED);
  });
});

/**
 * WebAuthn Level 3 §5.1.3 step 8: who a passkey ceremony is for. FAMOS_RP_ID, else FAMOS_PUBLIC_URL's
 * host, else (development) the host the request came to — which the client writes, so only a plain
 * host[:port] is taken, never what the URL rules would make of "user@evil.example" (evil.example).
 */
describe("the relying party of a passkey ceremony (relyingParty)", () => {
  const request = (host: string) => ({ host, protocol: "http" }) as FastifyRequest;
  const development = unitConfig();

  it.each([
    ["famos.local:3000", "famos.local"],
    ["Famos.Local", "famos.local"],
    ["127.0.0.1:3000", "127.0.0.1"],
    ["[::1]:3000", "[::1]"],
    ["famos_web", "famos_web"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
  ])("in development, names the Host %s as %s", (host, rpId) => {
    expect(relyingParty(request(host), development)).toEqual({ origin: `http://${host}`, rpId });
  });

  it.each(["user@evil.example", "user:pw@evil.example", "@evil.example", "evil.example/x", "evil.example\\x", "evil.example?x", "evil.example#x", "a b", "[::1", "[::zz]", "localhost:99999", ":80", "", "bücher.example"])(
    "in development, refuses the Host %j with 400",
    (host) => {
      let refusal: unknown;
      try {
        relyingParty(request(host), development);
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(HttpProblem);
      expect(refusal).toMatchObject({ statusCode: 400, message: "The address of this request is not valid." });
    },
  );

  it("takes FAMOS_PUBLIC_URL's host, or FAMOS_RP_ID, and never reads the Host", () => {
    const publicUrl = unitConfig({ FAMOS_PUBLIC_URL: "https://famos.dealer.example" });
    expect(relyingParty(request("user@evil.example"), publicUrl)).toEqual({ origin: "https://famos.dealer.example", rpId: "famos.dealer.example" });
    const rpId = unitConfig({ FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_RP_ID: "dealer.example" });
    expect(relyingParty(request("user@evil.example"), rpId)).toEqual({ origin: "https://famos.dealer.example", rpId: "dealer.example" });
  });
});
