import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const MINUTE = 60_000;

/** Concrete URL for a route pattern: parameters filled with a harmless value. */
const concrete = (pattern: string) => pattern.replace(/:[A-Za-z]+/g, "x0");

/** What a visitor sees of an answer: status, target and page, with the per-visitor CSRF token blanked. */
function seen(url: string, response: LightMyRequestResponse) {
  const body = url === "/metrics" ? "" : response.body.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value=""');
  return { status: response.statusCode, location: response.headers.location, body };
}

/** SPEC "Sessions"; ASVS 4.1.1, 4.1.3 (access enforced in one place: src/web/auth.ts), NIST SP 800-63B 4.2. */
describe("access by step and role (unit tier)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  const OWN: Record<"enrol" | "otp", string[]> = { enrol: ["/enrol", "/enrol/cancel", "/enrol/later"], otp: ["/otp", "/otp/regenerate", "/otp/cancel", "/otp/delivery", "/otp/app", "/otp/recovery"] };

  it("a half-signed-in session, on every route (public ones included), sees only its own step or what a signed-out visitor sees", async () => {
    const checked: string[] = [];
    for (const stage of ["enrol", "otp"] as const) {
      let half = (await signIn(u, { until: stage })).client;
      for (const route of u.app.famosRoutes) {
        if (route.method === "HEAD" || OWN[stage].includes(route.url)) continue;
        // A half-signed-in session again when the last route ended or replaced it (POST /logout, /login).
        if ((await half.get(`/${stage}`)).statusCode !== 200) half = (await signIn(u, { until: stage })).client;
        const visitor = new FormClient(u.app);
        await visitor.get("/login");
        const url = concrete(route.url);
        const [mine, theirs] =
          route.method === "GET" ? [await half.get(url), await visitor.get(url)] : [await half.post(url, {}), await visitor.post(url, {})];
        const label = `${stage} session, ${route.method} ${route.url}`;
        if (mine.statusCode === 303 && mine.headers.location === `/${stage}`) {
          checked.push(`${route.method} ${route.url}`);
          continue;
        }
        expect(route.config.access ?? "none", `${label}: only routes open to all may answer a half session`).toMatch(/^(public|none)$/);
        expect(seen(url, mine), label).toEqual(seen(url, theirs));
        checked.push(`${route.method} ${route.url}`);
      }
    }
    expect(checked).toEqual(expect.arrayContaining(["GET /", "GET /login", "GET /profile", "GET /quotation", "POST /profile/password", "GET /auth/nginx", "GET /support"]));
  });

  it("the portal home '/' sends a half-signed-in session back to its step; only a full session sees the portal", async () => {
    const { client: half } = await signIn(u, { until: "otp" });
    const home = await half.get("/");
    expect(home.statusCode).toBe(303);
    expect(home.headers.location).toBe("/otp");
    const { client: full } = await signIn(u);
    const portal = await full.get("/");
    expect(portal.statusCode).toBe(200);
    expect(portal.body).not.toContain('action="/login"');
  });

  it("sends a signed-out visitor to sign in: a page with its address to return to, a form to /login", async () => {
    const visitor = new FormClient(u.app);
    const page = await visitor.get("/profile?tab=1");
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe(`/login?returnTo=${encodeURIComponent("/profile?tab=1")}`);
    await visitor.get("/login");
    const form = await visitor.post("/profile/password", {});
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe("/login");
    const home = await visitor.get("/");
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('action="/login"');
  });

  it("lets a signed-in user of any role use the portal, and sends a full session away from the sign-in steps to the portal", async () => {
    const { client } = await signIn(u);
    expect((await client.get("/profile")).statusCode).toBe(200);
    expect((await client.get("/quotation")).statusCode).toBe(200);
    for (const step of ["/otp", "/enrol"]) {
      const away = await client.get(step);
      expect(away.statusCode, step).toBe(303);
      expect(away.headers.location, step).toBe("/");
    }
  });

  it("says why a role is refused", async () => {
    const { client } = await signIn(u);
    const refused = await client.get("/support");
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain("Your role does not give access to this page.");
  });

  it("ASVS 4.1.3: the support console needs the support or admin role, a role change needs admin", async () => {
    const target = await addUser(u.deps);
    const roles = { user: [403, 403], support: [200, 403], admin: [200, 303] } as const;
    for (const [role, [consoleStatus, roleStatus]] of Object.entries(roles)) {
      const { client } = await signIn(u, { role: role as keyof typeof roles });
      expect((await client.get("/support")).statusCode, `${role} on /support`).toBe(consoleStatus);
      await client.get("/profile");
      const change = await client.post(`/support/users/${target.id}/role`, { role: "user" });
      expect(change.statusCode, `${role} changing a role`).toBe(roleStatus);
    }
  });

  it("clears the cookie of a session that ended or never existed, and treats the visitor as signed out", async () => {
    const { client } = await signIn(u);
    u.clock.advance(30 * MINUTE);
    const page = await client.get("/profile");
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toMatch(/^\/login/);
    expect(page.cookies).toEqual(expect.arrayContaining([expect.objectContaining({ name: "famos_session", value: "" })]));
    const stranger = await u.app.inject({ method: "GET", url: "/login", headers: { cookie: `famos_session=${"x".repeat(43)}` } });
    expect(stranger.statusCode).toBe(200);
    expect(stranger.cookies).toEqual(expect.arrayContaining([expect.objectContaining({ name: "famos_session", value: "" })]));
    const none = await u.app.inject({ method: "GET", url: "/login" });
    expect(none.cookies.map((c) => c.name)).not.toContain("famos_session");
  });

  it("keeps at most 512 characters of the browser's user agent with the session", async () => {
    const user = await addUser(u.deps);
    const client = new FormClient(u.app, "192.0.2.9", { "user-agent": "A".repeat(600) });
    await signIn(u, { user, client });
    const row = await u.deps.db.selectFrom("sessions").select(["user_agent", "ip"]).where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ user_agent: "A".repeat(512), ip: "192.0.2.9" });
  });
});

describe("the session cookie (ASVS 3.4.1–3.4.5, RFC 6265bis)", () => {
  async function sessionCookie(env: Record<string, string>) {
    const u = await createUnitApp({ env });
    try {
      const user = await addUser(u.deps);
      const client = new FormClient(u.app);
      await client.get("/login");
      const response = await client.post("/login", { loginId: user.login_id, password: user.password });
      const cookie = response.cookies.find((c) => c.name.endsWith("famos_session"));
      const header = ([] as string[]).concat(response.headers["set-cookie"] ?? []).find((h) => h.includes("famos_session="));
      return { cookie, header };
    } finally {
      await u.close();
    }
  }

  it("is HttpOnly, SameSite=Lax, Path=/, ends with the browser, and is plain over plain HTTP", async () => {
    const { cookie, header } = await sessionCookie({});
    expect(cookie).toMatchObject({ name: "famos_session", path: "/", httpOnly: true, sameSite: "Lax" });
    expect(cookie?.secure).toBeUndefined();
    expect(header).not.toMatch(/max-age|expires|domain/i);
  });

  it("is __Host- and Secure under HTTPS", async () => {
    const { cookie, header } = await sessionCookie({ FAMOS_PUBLIC_URL: "https://famos.dealer.example" });
    expect(cookie).toMatchObject({ name: "__Host-famos_session", path: "/", httpOnly: true, secure: true, sameSite: "Lax" });
    expect(header).not.toMatch(/domain/i);
  });

  it("is __Secure- with the Domain of FAMOS_COOKIE_DOMAIN when set", async () => {
    const { cookie } = await sessionCookie({ FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_COOKIE_DOMAIN: "dealer.example" });
    expect(cookie).toMatchObject({ name: "__Secure-famos_session", domain: "dealer.example", secure: true, httpOnly: true });
  });
});
