import type { FastifyRequest, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession, type Stage } from "../../src/session/sessions.ts";
import type { Role } from "../../src/users/users.ts";
import Fastify from "fastify";
import fastifyCookie from "@fastify/cookie";
import { answerSignedOut, signedIn } from "../../src/web/auth.ts";
import { cookieSigner } from "../../src/web/cookie-signer.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const MINUTE = 60_000;

/** A session made straight in the store (a step the forms reach only through other flows), and its cookie header. */
/**
 * `verified`: the session confirmed a second factor, as every session of a support or admin account at
 * these steps has. `email` null: an account without an OTP email (else the helper's confirmed one).
 */
async function plantedSession(u: UnitApp, stage: Stage, role: Role = "user", verified = false, email?: null): Promise<{ cookie: string }> {
  const user = await addUser(u.deps, { role, ...(email === null ? { email } : {}) });
  const { token, session } = await createSession(u.deps.db, u.deps.random, u.clock.now(), u.config.session, { userId: user.id, stage, flowId: null, ip: "192.0.2.1", userAgent: "unit" });
  if (verified) await u.deps.db.updateTable("sessions").set({ verified_at: u.clock.now() }).where("id", "=", session.id).execute();
  return { cookie: `famos_session=${token}` };
}

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

  const OWN: Record<"enrol" | "otp", string[]> = { enrol: ["/enrol", "/enrol/cancel", "/enrol/later"], otp: ["/otp", "/otp/regenerate", "/otp/cancel", "/otp/delivery", "/otp/app", "/otp/recovery", "/otp/passkey", "/otp/passkey/options"] };

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
  it("sends a session at the choose-password or factor-setup step to that step's page from every other page", async () => {
    for (const [stage, path] of [["password", "/choose-password"], ["factor-setup", "/factor-setup"]] as const) {
      const { cookie } = await plantedSession(u, stage, "admin", true);
      for (const url of ["/profile", "/otp", "/enrol", "/support"]) {
        const answer = await u.app.inject({ method: "GET", url, headers: { cookie } });
        expect([answer.statusCode, answer.headers.location], `${stage} session, GET ${url}`).toEqual([303, path]);
      }
    }
  });

  it("ASVS 4.1.3: an admin-only form refuses the support role before doing anything (the rollout plan)", async () => {
    const { client: support } = await signIn(u, { role: "support" });
    for (const url of ["/support/rollout/plan", "/support/rollout/plan/remove"]) {
      const refused = await support.post(url, { partner: "01234", from: "2027-01-04" });
      expect(refused.statusCode, url).toBe(403);
      expect(refused.body, url).toContain("Your role does not give access to this page.");
    }
    const { client: admin } = await signIn(u, { role: "admin" });
    // The admin's removal of a start the plan holds (one it does not hold is refused, 409).
    const planned = await admin.post("/support/rollout/plan", { partner: "01234", from: "2027-01-04T07:00" });
    expect(planned.statusCode).toBe(303);
    const done = await admin.post("/support/rollout/plan/remove", { partner: "01234" });
    expect([done.statusCode, done.headers.location]).toEqual([303, "/support/rollout?done=removed"]);
  });

  it("a session opened by the password alone (no code) reaches the portal for a user, and ends at once for a support or admin account", async () => {
    // A user without an OTP email (before the wave, or "Later"); one with a confirmed address always needs the code too.
    const { cookie: user } = await plantedSession(u, "full", "user", false, null);
    expect((await u.app.inject({ method: "GET", url: "/profile", headers: { cookie: user } })).statusCode).toBe(200);
    expect((await u.app.inject({ method: "GET", url: "/support", headers: { cookie: user } })).statusCode).toBe(403);
    for (const role of ["support", "admin"] as const) {
      // Such accounts always need two factors (rollout/applies.ts alwaysTwoFactor): neither the portal nor the console.
      const { cookie } = await plantedSession(u, "full", role);
      const profile = await u.app.inject({ method: "GET", url: "/profile", headers: { cookie } });
      expect([profile.statusCode, profile.headers.location], role).toEqual([303, "/login?returnTo=%2Fprofile&ended=1"]);
      const console = await u.app.inject({ method: "GET", url: "/support", headers: { cookie } });
      expect([console.statusCode, console.headers.location], role).toEqual([303, "/login?returnTo=%2Fsupport&ended=1"]);
    }
  });

  it("fails loudly when a route without an access rule reads the session, rather than serve it signed out", () => {
    expect(() => signedIn({ famos: null } as unknown as FastifyRequest)).toThrow("route without an access rule used the session");
  });

  it("sets and clears no section cookie when no application is protected", async () => {
    const { client, answer } = await signIn(u, { until: "otp" });
    expect(answer.cookies.map((c) => c.name)).toContain("famos_session");
    expect(answer.cookies.map((c) => c.name)).not.toContain("famos_section");
    u.clock.advance(30 * MINUTE);
    const cleared = await client.get("/otp");
    expect(cleared.cookies.map((c) => c.name)).toEqual(expect.arrayContaining(["famos_session"]));
    expect(cleared.cookies.map((c) => c.name)).not.toContain("famos_section");
  });

  it("expires no cookie of another application at sign-in when no application is protected: its cookies are none of FAMOS's business", async () => {
    const client = new FormClient(u.app, "192.0.2.12");
    client.cookies.set("app_session.AAAAAAAAAAAA", "other");
    const { answer } = await signIn(u, { client, page: null });
    expect([answer.headers["set-cookie"]].flat().join("\n")).not.toContain("app_session");
    expect(client.cookies.get("app_session.AAAAAAAAAAAA")).toBe("other");
  });

  it("keeps an empty user agent with the session when the browser sends none", async () => {
    const user = await addUser(u.deps);
    const client = new FormClient(u.app, "192.0.2.10", { "user-agent": undefined } as unknown as Record<string, string>);
    await signIn(u, { user, client, until: "otp" });
    const row = await u.deps.db.selectFrom("sessions").select("user_agent").where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(row.user_agent).toBe("");
  });

  it("names the browser in the code mail from the first 512 characters of its user agent, the part kept with the session", async () => {
    const mailed = async (agent: string) => {
      const user = await addUser(u.deps);
      await signIn(u, { user, client: new FormClient(u.app, "192.0.2.11", { "user-agent": agent }), until: "otp" });
      const mail = await u.deps.db.selectFrom("codes").innerJoin("outbox", "outbox.id", "codes.outbox_id").select("outbox.text_body").where("codes.email", "=", user.otp_email!).executeTakeFirstOrThrow();
      return mail.text_body;
    };
    expect(await mailed("Mozilla/5.0 (Windows NT 10.0) Firefox/128.0")).toContain("Firefox on Windows");
    const late = await mailed(`${"A".repeat(512)} Mozilla/5.0 (Windows NT 10.0) Firefox/128.0`);
    expect(late).toContain("an unrecognised browser or program");
    expect(late).not.toContain("Firefox");
  });
});

/** Issue 19.4: the section cookie carries a session to the sandboxed pages' own form posts, and nowhere else. */
describe("the section cookie (FAMOS_UPSTREAM_URL set)", () => {
  let u: UnitApp;
  // Nothing listens there: every request below is answered by FAMOS before it would be passed on.
  const env = { FAMOS_UPSTREAM_URL: "http://127.0.0.1:9" };
  beforeAll(async () => {
    u = await createUnitApp({ env });
  });
  afterAll(async () => u.close());

  it("goes with the session cookie: the same token, SameSite=None, Secure, HttpOnly, Path=/; and is cleared with it", async () => {
    const { client, answer } = await signIn(u, { until: "otp" });
    const section = answer.cookies.find((c) => c.name === "famos_section");
    expect(section).toMatchObject({ path: "/", httpOnly: true, secure: true, sameSite: "None" });
    expect(section?.value).toBe(client.cookies.get("famos_session"));
    u.clock.advance(30 * MINUTE);
    const cleared = await client.get("/otp");
    expect(cleared.cookies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "famos_session", value: "" }),
        expect.objectContaining({ name: "famos_section", value: "", path: "/", secure: true, sameSite: "None" }),
      ]),
    );
  });

  it("is __Host-famos_section under HTTPS", async () => {
    const https = await createUnitApp({ env: { ...env, FAMOS_PUBLIC_URL: "https://famos.dealer.example" } });
    try {
      const { answer } = await signIn(https, { until: "otp" });
      expect(answer.cookies.map((c) => c.name)).toEqual(expect.arrayContaining(["__Host-famos_session", "__Host-famos_section"]));
    } finally {
      await https.close();
    }
  });

  it("a completed sign-in under HTTPS expires another user's __Host- application cookie with Secure, and keeps FAMOS's", async () => {
    const https = await createUnitApp({ env: { ...env, FAMOS_PUBLIC_URL: "https://famos.dealer.example" } });
    try {
      const client = new FormClient(https.app, "192.0.2.13");
      client.cookies.set("__Host-app_session.AAAAAAAAAAAA", "other");
      const { answer } = await signIn(https, { client, page: null });
      const lines = [answer.headers["set-cookie"]].flat();
      expect(lines).toContain("__Host-app_session.AAAAAAAAAAAA=; Max-Age=0; Path=/; Secure");
      expect(client.cookies.has("__Host-app_session.AAAAAAAAAAAA")).toBe(false);
      expect([...client.cookies.keys()]).toEqual(expect.arrayContaining(["__Host-famos_session", "__Host-famos_section", "__Host-famos_csrf"]));
    } finally {
      await https.close();
    }
  });

  it("\"Later\" at User profile, which opens the portal, expires another user's application cookie; the password step before it did not", async () => {
    const later = await createUnitApp({ env: { ...env, FAMOS_2FA_GRACE_SIGNINS: "1" } });
    try {
      const client = new FormClient(later.app, "192.0.2.14");
      client.cookies.set("app_session.AAAAAAAAAAAA", "other");
      await signIn(later, { client, until: "enrol" });
      expect(client.cookies.get("app_session.AAAAAAAAAAAA")).toBe("other");
      const answer = await client.post("/enrol/later", { email: "", confirmEmail: "" });
      expect([answer.statusCode, answer.headers.location]).toEqual([303, "/"]);
      expect([answer.headers["set-cookie"]].flat()).toContain("app_session.AAAAAAAAAAAA=; Max-Age=0; Path=/");
      expect(client.cookies.has("app_session.AAAAAAAAAAAA")).toBe(false);
    } finally {
      await later.close();
    }
  });

  it("signs in a section's form posts only: not a GET or HEAD of the section, not a form of FAMOS's own", async () => {
    const { client } = await signIn(u, { until: "otp" });
    const token = client.cookies.get("famos_session")!;
    client.cookies.delete("famos_session");
    expect(client.cookies.get("famos_section")).toBe(token);
    // Found: the half-signed-in session is sent to its step (a signed-out visitor goes to /login).
    const post = await client.post("/quotation/offer", { item: "1" });
    expect([post.statusCode, post.headers.location]).toEqual([303, "/otp"]);
    const get = await client.get("/quotation/offer");
    expect([get.statusCode, get.headers.location]).toEqual([303, `/login?returnTo=${encodeURIComponent("/quotation/offer")}`]);
    const head = await u.app.inject({ method: "HEAD", url: "/quotation/offer", headers: { cookie: client.cookieHeader() } });
    expect([head.statusCode, head.headers.location]).toEqual([303, "/login"]);
    const own = await client.post("/otp/regenerate", {});
    expect([own.statusCode, own.headers.location]).toEqual([303, "/login"]);
  });
});

describe("answerSignedOut: a form whose session ended on its way", () => {
  it("ends the sign-in here (session cookie cleared, a new CSRF secret, storage cleared) and sends the browser to sign in", async () => {
    const u = await createUnitApp();
    const app = Fastify();
    try {
      await app.register(fastifyCookie, { secret: cookieSigner(u.deps.keys.cookie) });
      app.post("/ended", async (_request, reply) => answerSignedOut(u.deps, reply));
      const answer = await app.inject({ method: "POST", url: "/ended", headers: { cookie: "famos_session=ended-token; famos_csrf=old-secret" } });
      expect([answer.statusCode, answer.headers.location]).toEqual([303, "/login"]);
      expect(answer.headers["clear-site-data"]).toBe('"storage"');
      const cookies = new Map(answer.cookies.map((c) => [c.name, c]));
      expect(cookies.get("famos_session")?.value).toBe("");
      const csrf = cookies.get("famos_csrf");
      expect(csrf && app.unsignCookie(csrf.value)).toMatchObject({ valid: true });
      expect(app.unsignCookie(csrf!.value).value).not.toBe("old-secret");
    } finally {
      await app.close();
      await u.close();
    }
  });

  it("in reverse-proxy mode empties the browser's cache too: the application's pages keep the caching it chose, and a shared PC's next person must not get them back", async () => {
    const u = await createUnitApp({ env: { FAMOS_UPSTREAM_URL: "http://127.0.0.1:9" } });
    const app = Fastify();
    try {
      await app.register(fastifyCookie, { secret: cookieSigner(u.deps.keys.cookie) });
      app.post("/ended", async (_request, reply) => answerSignedOut(u.deps, reply));
      const answer = await app.inject({ method: "POST", url: "/ended", headers: { cookie: "famos_session=ended-token" } });
      expect(answer.headers["clear-site-data"]).toBe('"cache", "storage"');
    } finally {
      await app.close();
      await u.close();
    }
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
