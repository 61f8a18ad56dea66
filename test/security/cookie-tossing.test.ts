import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetch } from "undici";
import { createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";

/**
 * Red team, cookie tossing: a browser sends every cookie whose host, Domain and Path fit, longest Path
 * first, so whoever can plant a cookie of FAMOS's name (plain HTTP; a sibling host when the session
 * cookie is `__Secure-` with FAMOS_COOKIE_DOMAIN) puts his value in front of FAMOS's, and the first
 * value was the one read: a bogus one signed the browser out, his own session signed the victim in
 * as him (login CSRF), his CSRF secret passed his forged form. A security cookie named twice in the
 * Cookie header is now trusted in neither value (src/web/security-cookie.ts). Over real HTTP.
 */
const FORM = "application/x-www-form-urlencoded";

async function raw(base: string, url: string, cookie: string, init: { body?: string; origin?: string } = {}) {
  const headers: Record<string, string> = { cookie, "user-agent": "famos-test" };
  if (init.body !== undefined) Object.assign(headers, { "content-type": FORM, origin: init.origin ?? base });
  const answer = await fetch(new URL(url, base), { method: init.body === undefined ? "GET" : "POST", headers, body: init.body, redirect: "manual" });
  await answer.text();
  return { status: answer.status, location: answer.headers.get("location"), cookies: answer.headers.getSetCookie() };
}

const pair = (cookies: Map<string, string>, name: string) => `${name}=${cookies.get(name)!}`;

describe("cookie tossing, plain HTTP", () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
    base = await listen(t);
  });
  afterAll(async () => t.close());

  it("a session cookie named twice signs nobody in, whichever value comes first, clears the cookie and ends neither session", async () => {
    const victim = (await signIn(t, { client: new FormClient(overHttp(base)), page: null })).client.cookies.get("famos_session")!;
    const planter = (await signIn(t, { client: new FormClient(overHttp(base)), page: null })).client.cookies.get("famos_session")!;
    for (const [first, second] of [["bogus", victim], [planter, victim], [victim, planter]]) {
      const answer = await raw(base, "/profile", `famos_session=${first}; famos_session=${second}`);
      expect([answer.status, answer.location], `${first === planter ? "planter" : first === victim ? "victim" : "bogus"} first`).toEqual([303, "/login?returnTo=%2Fprofile&ended=1"]);
      expect(answer.cookies.filter((c) => c.startsWith("famos_session=;"))).toHaveLength(1);
    }
    for (const own of [victim, planter]) expect((await raw(base, "/profile", `famos_session=${own}`)).status, "neither session ended").toBe(200);
  });

  it("a device cookie named twice is no known device: the login ID's pause refuses the right password", async () => {
    const { client: owner, user } = await signIn(t, { client: new FormClient(overHttp(base)), page: null });
    const device = owner.cookies.get("famos_device")!;
    const stranger = new FormClient(overHttp(base));
    await stranger.get("/login");
    for (let i = 0; i < 5; i++) await stranger.post("/login", { loginId: user.login_id, password: "not the password" });
    for (const cookie of [`famos_device=${device}; famos_device=planted`, `famos_device=planted; famos_device=${device}`]) {
      const browser = new FormClient(overHttp(base));
      await browser.get("/login");
      const answer = await raw(base, "/login", `${cookie}; ${pair(browser.cookies, "famos_csrf")}`, { body: new URLSearchParams({ loginId: user.login_id, password: user.password, _csrf: browser.csrf! }).toString() });
      expect(answer.location, cookie).not.toBe("/otp");
    }
    // The owner's cookie alone still passes the pause (SPEC "Locks").
    const browser = new FormClient(overHttp(base));
    await browser.get("/login");
    const alone = await raw(base, "/login", `famos_device=${device}; ${pair(browser.cookies, "famos_csrf")}`, { body: new URLSearchParams({ loginId: user.login_id, password: user.password, _csrf: browser.csrf! }).toString() });
    expect(alone.location).toBe("/otp");
  });

  it("a CSRF secret named twice passes no form: the planter's secret in front does not sign the victim in as him", async () => {
    const { user: planterUser } = await signIn(t, { client: new FormClient(overHttp(base)), page: null });
    const planter = new FormClient(overHttp(base));
    await planter.get("/login");
    const victim = new FormClient(overHttp(base));
    await victim.get("/login");
    const body = new URLSearchParams({ loginId: planterUser.login_id, password: planterUser.password, _csrf: planter.csrf! }).toString();
    const answer = await raw(base, "/login", `${pair(planter.cookies, "famos_csrf")}; ${pair(victim.cookies, "famos_csrf")}`, { body });
    expect(answer.location).not.toBe("/otp");
    expect(answer.cookies.filter((c) => c.startsWith("famos_session="))).toEqual([]);
  });

  it("a reset state named twice is no reset state: the code page goes back to the first step", async () => {
    const states: string[] = [];
    for (const loginId of ["reset.victim", "reset.planter"]) {
      const browser = new FormClient(overHttp(base));
      await browser.get("/forgot-password");
      await browser.post("/forgot-password", { loginId });
      states.push(pair(browser.cookies, "famos_reset"));
    }
    await t.app.afterReply.settled();
    expect((await raw(base, "/forgot-password/code", states[0]!)).status).toBe(200);
    for (const cookie of [`${states[1]}; ${states[0]}`, `${states[0]}; ${states[1]}`]) {
      expect((await raw(base, "/forgot-password/code", cookie)).location, cookie).toBe("/forgot-password");
    }
  });
});

describe("cookie tossing, HTTPS with FAMOS_COOKIE_DOMAIN", () => {
  const origin = "https://famos.dealer.example";
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PUBLIC_URL: origin, FAMOS_COOKIE_DOMAIN: "dealer.example", FAMOS_PASSWORD_RESET: "self" } });
    base = await listen(t);
  });
  afterAll(async () => t.close());

  it("a __Secure- session cookie named twice is cleared both with Domain and host-only (a host-only one left from before FAMOS_COOKIE_DOMAIN goes too)", async () => {
    const answer = await raw(base, "/profile", "__Secure-famos_session=planted; __Secure-famos_session=real");
    expect(answer.status).toBe(303);
    const cleared = answer.cookies.filter((c) => c.startsWith("__Secure-famos_session=;")).map((c) => c.split("; ").slice(1).sort().join("; "));
    expect(cleared.sort()).toEqual([
      "Domain=dealer.example; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; Secure",
      "Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; Secure",
    ]);
  });

  it("the reset state is __Host-famos_reset (Secure, Path=/, no Domain) that no sibling host can set; a plain famos_reset is not read", async () => {
    const page = await fetch(new URL("/forgot-password", base), { headers: { "user-agent": "famos-test" } });
    const html = await page.text();
    const csrf = page.headers.getSetCookie()[0]!.split(";")[0]!;
    const token = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const started = await raw(base, "/forgot-password", csrf, { origin, body: new URLSearchParams({ loginId: "reset.someone", _csrf: token }).toString() });
    await t.app.afterReply.settled();
    expect(started.location).toBe("/forgot-password/code");
    const state = started.cookies.find((c) => /^__Host-famos_reset=/.test(c));
    expect(state?.split("; ").slice(1).sort()).toEqual(["HttpOnly", `Max-Age=${t.config.otp.ttlMs / 1000}`, "Path=/", "SameSite=Lax", "Secure"]);
    const value = state!.split(";")[0]!.slice("__Host-famos_reset=".length);
    expect((await raw(base, "/forgot-password/code", `__Host-famos_reset=${value}`)).status).toBe(200);
    expect((await raw(base, "/forgot-password/code", `famos_reset=${value}`)).location).toBe("/forgot-password");
  });
});
