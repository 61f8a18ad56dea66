import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signIn, signInFully, submitPassword } from "../support/client.ts";
import { atCode, atEnrolment, concreteUrl, getWithCookie, liveSessions, sessionToken, signedIn, snapshot } from "./helpers.ts";

const MINUTE = 60_000;
const CSRF_REFUSED = "This form has expired or did not come from FAMOS";

/**
 * Reachable without a session by design, named by address (a route whose access setting is changed
 * by mistake is still walked): the sign-in pages, Sign out, the help pages, the proxies' sign-in
 * check, operators' endpoints, static files, the development mailbox and the bounce webhook.
 */
const OPEN_BY_DESIGN = (url: string) =>
  /^\/(login|logout|wrong-email|legal|forgot-password|reset-password(\/.*)?|healthz|readyz|metrics|static\/.*|dev\/mailbox.*|auth\/(nginx|traefik)|hooks\/bounce)?$/.test(url);

/** SPEC "Sessions"; ASVS 4.0.3 V3; NIST SP 800-63B §7. */
describe("sessions", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it("ASVS 3.2.1: session fixation — a planted cookie is ignored and every step (password, enrolment, code) replaces the token; old ones die", async () => {
    const user = await addUser(t.deps, { email: null });
    const client = new FormClient(t.app);
    client.cookies.set("famos_session", "planted-by-an-attacker-0123456789abcdefghijklmnop");
    await submitPassword(client, user.login_id, user.password);
    const afterPassword = sessionToken(client)!;
    expect(afterPassword).not.toContain("planted");

    await client.get("/enrol");
    const before = t.smtp.messages.length;
    await client.post("/enrol", { email: "fixation@dealer.example", confirmEmail: "fixation@dealer.example" });
    const afterEnrol = sessionToken(client)!;
    expect(afterEnrol).not.toBe(afterPassword);

    const code = await nextCode(t.smtp, "fixation@dealer.example", before);
    await client.get("/otp");
    await client.post("/otp", { code });
    const afterCode = sessionToken(client)!;
    expect(afterCode).not.toBe(afterEnrol);
    expect((await client.get("/profile")).statusCode).toBe(200);

    for (const old of [afterPassword, afterEnrol]) {
      const replay = await getWithCookie(t.app, "/profile", `famos_session=${old}`);
      expect(replay.statusCode).toBe(303);
      expect(replay.headers.location).toMatch(/^\/login/);
    }
  });

  it("ASVS 3.2.2 / NIST SP 800-63B 7.1: session tokens carry 256 random bits and only their SHA-256 is stored", async () => {
    const { client, user } = await signedIn(t);
    const token = sessionToken(client)!;
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    const rows = await t.deps.db.selectFrom("sessions").select("token_hash").where("user_id", "=", user.id).execute();
    expect(rows).toEqual([{ token_hash: createHash("sha256").update(token).digest("base64url") }]);
    expect(JSON.stringify(await snapshot(t.deps.db))).not.toContain(token);
  });

  it("ASVS 3.2.1: a new sign-in in the same browser ends the session it had before", async () => {
    const { client, user } = await atCode(t);
    const first = sessionToken(client)!;
    await submitPassword(client, user.login_id, user.password);
    expect(sessionToken(client)).not.toBe(first);
    expect(await liveSessions(t.deps, user.id)).toHaveLength(1);
    expect((await getWithCookie(t.app, "/otp", `famos_session=${first}`)).headers.location).toMatch(/^\/login/);
  });

  it("ASVS 3.3.1: after sign-out the old cookie is worthless — the session ended on the server", async () => {
    const { client, user } = await signedIn(t);
    const cookie = client.cookieHeader();
    const out = await client.post("/logout");
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe("/login?signedOut=1");
    const cleared = (out.cookies as Array<{ name: string; value: string }>).find((c) => c.name === "famos_session");
    expect(cleared?.value).toBe("");
    expect((await getWithCookie(t.app, "/", cookie)).body).not.toContain("Sign out");
    for (const url of ["/profile", "/quotation"]) {
      const replay = await getWithCookie(t.app, url, cookie);
      expect(replay.statusCode).toBe(303);
      expect(replay.headers.location).toMatch(/^\/login/);
    }
    const rows = await t.deps.db.selectFrom("sessions").select(["end_reason"]).where("user_id", "=", user.id).execute();
    expect(rows).toEqual([{ end_reason: "signout" }]);
  });

  it("ASVS 3.3.1 / 4.2.2: sign-out renews the CSRF secret: a token from a signed-in page is refused after it (the login form, other forms) and changes nothing; the next login page's token signs in", async () => {
    const { client, user } = await signedIn(t);
    const secretBefore = client.cookies.get("famos_csrf");
    const old = client.csrf!;
    const out = await client.post("/logout");
    expect(out.statusCode).toBe(303);
    // The origin's web storage goes too; not "cookies" (the device cookie and the new secret stay), not "cache" (pages are no-store).
    expect(out.headers["clear-site-data"]).toBe('"storage"');
    expect(client.cookies.get("famos_csrf")).toBeDefined();
    expect(client.cookies.get("famos_csrf")).not.toBe(secretBefore);
    expect(sessionToken(client)).toBeUndefined();
    const before = await snapshot(t.deps.db);
    const secretAfter = client.cookies.get("famos_csrf");
    // The login form is refused; a signed-in page's form (another tab's) and Sign out go to sign-in
    // instead, with no session cookie there is nobody they could act as: nothing is done either way.
    const forms: Array<[string, Record<string, string>, string | null]> = [
      ["/login", { loginId: user.login_id, password: user.password }, null],
      ["/profile/password", { currentPassword: user.password, newPassword: "a brand new passphrase 42", confirmNewPassword: "a brand new passphrase 42" }, "/login?ended=form"],
      ["/logout", {}, "/login?signedOut=1"],
    ];
    for (const [url, fields, signIn] of forms) {
      const replay = await client.post(url, fields, { csrf: old });
      if (signIn === null) {
        expect(replay.statusCode, `POST ${url} with a token from before sign-out`).toBe(403);
        expect(replay.body).toContain(CSRF_REFUSED);
      } else {
        expect(replay.statusCode, `POST ${url} with a token from before sign-out`).toBe(303);
        expect(replay.headers.location).toBe(signIn);
        expect(replay.headers["set-cookie"], `POST ${url}`).toBeUndefined();
      }
      expect(sessionToken(client), `POST ${url}`).toBeUndefined();
      expect(client.cookies.get("famos_csrf"), `POST ${url}`).toBe(secretAfter);
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    // The login page after sign-out carries a token of the new secret: it signs in again.
    await client.get("/login?signedOut=1");
    expect(client.csrf).not.toBe(old);
    await signIn(t, { user, client });
    expect((await client.get("/profile")).statusCode).toBe(200);
  });

  it("ASVS 4.2.2: a bad token goes to sign-in only with no session cookie at all; with a session cookie (live or not), from another origin, or at the login form it is refused as before", async () => {
    const { client, user } = await signedIn(t);
    const change = { currentPassword: user.password, newPassword: "a brand new passphrase 42", confirmNewPassword: "a brand new passphrase 42" };
    const before = await snapshot(t.deps.db);
    const refusedHere = async (what: string, answer: { statusCode: number; body: string }) => {
      expect(answer.statusCode, what).toBe(403);
      expect(answer.body, what).toContain(CSRF_REFUSED);
    };
    // A live session: a missing or forged token is refused at a signed-in form and at Sign out, and the session stays.
    for (const csrf of [false, "abc-def"] as const) {
      await refusedHere(`live, ${csrf}`, await client.post("/profile/password", change, { csrf }));
      await refusedHere(`live, ${csrf}`, await client.post("/logout", {}, { csrf }));
    }
    expect(await liveSessions(t.deps, user.id)).toHaveLength(1);
    // A session cookie that names no live session: refused too (the rule asks for no cookie at all).
    const stale = new FormClient(t.app);
    await stale.get("/login");
    stale.cookies.set("famos_session", "n".repeat(43));
    await refusedHere("stale cookie", await stale.post("/profile/password", change, { csrf: "abc-def" }));
    await refusedHere("stale cookie", await stale.post("/logout", {}, { csrf: "abc-def" }));
    // No session cookie: another origin is refused by the Origin check first; the login form by the token.
    const visitor = new FormClient(t.app);
    await visitor.get("/login");
    const crossSite = await visitor.post("/profile/password", change, { csrf: false, headers: { origin: "https://evil.example" } });
    expect(crossSite.statusCode).toBe(403);
    await refusedHere("login form", await visitor.post("/login", { loginId: user.login_id, password: user.password }, { csrf: "abc-def" }));
    // No session cookie, FAMOS's own origin: to sign-in, saying why; nothing done, no cookie set.
    for (const csrf of [false, "abc-def"] as const) {
      const form = await visitor.post("/profile/password", change, { csrf, headers: { origin: "http://localhost:80" } });
      expect([form.statusCode, form.headers.location, form.headers["set-cookie"]]).toEqual([303, "/login?ended=form", undefined]);
      const out = await visitor.post("/logout", {}, { csrf });
      expect([out.statusCode, out.headers.location, out.headers["set-cookie"]]).toEqual([303, "/login?signedOut=1", undefined]);
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    expect(await liveSessions(t.deps, user.id)).toHaveLength(1);
  });

  it("ASVS 3.3.1 / 4.2.2: Cancel at User profile and at OTP capture ends the half sign-in and renews the CSRF secret likewise", async () => {
    for (const [at, url] of [[atEnrolment, "/enrol/cancel"], [atCode, "/otp/cancel"]] as const) {
      const { client, user } = await at(t);
      const old = client.csrf!;
      const cancelled = await client.post(url);
      expect(cancelled.headers.location, url).toBe("/login?cancelled=1");
      expect(cancelled.headers["clear-site-data"], url).toBe('"storage"');
      expect(sessionToken(client), url).toBeUndefined();
      const replay = await client.post("/login", { loginId: user.login_id, password: user.password }, { csrf: old });
      expect(replay.statusCode, `${url}, then the login form with a token from before`).toBe(403);
      expect(sessionToken(client), url).toBeUndefined();
      await client.get("/login");
      expect((await client.post("/login", { loginId: user.login_id, password: user.password })).statusCode, url).toBe(303);
    }
  });

  it("ASVS 4.2.2: a request still carrying an ended session's cookie keeps the browser's CSRF secret: pages loaded side by side, a login refused and shown again, all sign in", async () => {
    const { client, user } = await signedIn(t);
    const stale = sessionToken(client)!;
    const secret = client.cookies.get("famos_csrf");
    t.clock.advance(31 * MINUTE);
    // Two tabs (a restored window) load the login page at once, both with the ended session's cookie.
    const tabs = await Promise.all([0, 1].map(() => t.app.inject({ method: "GET", url: "/login", headers: { cookie: client.cookieHeader() } })));
    const tokens = tabs.map((tab) => /name="_csrf" value="([^"]+)"/.exec(tab.body)![1]!);
    for (const tab of tabs) {
      expect(tab.statusCode).toBe(200);
      // The browser keeps what each answer sets, the last one last.
      for (const c of tab.cookies as Array<{ name: string; value: string }>) {
        if (c.value === "") client.cookies.delete(c.name);
        else client.cookies.set(c.name, c.value);
      }
    }
    expect(sessionToken(client)).toBeUndefined();
    expect(client.cookies.get("famos_csrf")).toBe(secret);
    expect(tabs.map((tab) => tab.headers["clear-site-data"])).toEqual([undefined, undefined]);
    // The login form arrives with the ended session's cookie still sent: its own token passes, the
    // page shown again (wrong password) carries a token of the cookie the browser holds.
    const wrong = await client.post("/login", { loginId: user.login_id, password: "not the password" }, { csrf: tokens[0]! });
    expect(wrong.statusCode).toBe(401);
    client.cookies.set("famos_session", stale);
    expect((await client.post("/login", { loginId: user.login_id, password: "still not it" })).statusCode).toBe(401);
    client.cookies.set("famos_session", stale);
    const right = await client.post("/login", { loginId: user.login_id, password: user.password }, { csrf: tokens[1]! });
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toBe("/otp");
    expect(sessionToken(client)).not.toBe(stale);
  });

  it("ASVS 4.1.1 / NIST SP 800-63B 4.2: a half-signed-in session reaches nothing but its own step (every route, enumerated)", async () => {
    const enrol = await atEnrolment(t);
    const otp = await atCode(t);
    const own: Record<string, string[]> = { enrol: ["/enrol", "/enrol/cancel", "/enrol/later"], otp: ["/otp", "/otp/regenerate", "/otp/cancel", "/otp/delivery", "/otp/app", "/otp/recovery", "/otp/passkey", "/otp/passkey/options"] };
    const open = (route: { url: string }) => OPEN_BY_DESIGN(route.url);
    const checked: string[] = [];
    for (const [stage, client] of [["enrol", enrol.client], ["otp", otp.client]] as const) {
      for (const route of t.app.famosRoutes) {
        if (open(route) || own[stage]!.includes(route.url) || route.method === "HEAD") continue;
        const url = concreteUrl(route.url);
        const response =
          route.method === "GET"
            ? await client.get(url)
            : await client.post(url, {});
        expect(response.statusCode, `${stage} session, ${route.method} ${route.url}`).toBe(303);
        expect(response.headers.location, `${stage} session, ${route.method} ${route.url}`).toBe(`/${stage}`);
        checked.push(`${route.method} ${route.url}`);
      }
    }
    expect(checked).toEqual(expect.arrayContaining(["GET /profile", "GET /quotation", "POST /profile/password"]));
  });

  it("ASVS 4.1.1 / 4.1.5: a signed-out visitor is sent to sign in from every route but the sign-in pages (enumerated, by address, not by the route's own access setting)", async () => {
    const visitor = new FormClient(t.app);
    await visitor.get("/login");
    const before = await snapshot(t.deps.db);
    const letIn: string[] = [];
    for (const route of t.app.famosRoutes) {
      if (OPEN_BY_DESIGN(route.url) || route.method === "HEAD") continue;
      const url = concreteUrl(route.url);
      const response = route.method === "GET" ? await visitor.get(url) : await visitor.post(url, {});
      if (response.statusCode !== 303 || !String(response.headers.location).startsWith("/login")) letIn.push(`${route.method} ${route.url}: ${response.statusCode} ${response.headers.location ?? ""}`);
    }
    expect(letIn).toEqual([]);
    expect(await snapshot(t.deps.db)).toEqual(before);
  });

  it("ASVS 3.3.2 / NIST SP 800-63B 7.2: a session ends after 30 minutes idle and 12 hours in all, even when in use", async () => {
    const idle = await signedIn(t);
    t.clock.advance(30 * MINUTE - 1);
    expect((await idle.client.get("/profile")).statusCode).toBe(200);
    t.clock.advance(30 * MINUTE);
    expect((await idle.client.get("/profile")).headers.location).toMatch(/^\/login/);

    const busy = await signedIn(t);
    for (let elapsed = 0; elapsed < 12 * 60 * MINUTE - 20 * MINUTE; elapsed += 20 * MINUTE) {
      t.clock.advance(20 * MINUTE);
      expect((await busy.client.get("/profile")).statusCode).toBe(200);
    }
    t.clock.advance(20 * MINUTE);
    expect((await busy.client.get("/profile")).headers.location).toMatch(/^\/login/);
    const reasons = await t.deps.db.selectFrom("sessions").select("end_reason").where("user_id", "in", [idle.user.id, busy.user.id]).orderBy("created_at").execute();
    expect(reasons.map((r) => r.end_reason)).toEqual(["idle", "expired"]);
  });

  it("ASVS 3.3.4: Profile lists the user's sessions and ends another one on the server; another user's session id does nothing (IDOR)", async () => {
    const user = await addUser(t.deps);
    const laptop = new FormClient(t.app, "192.0.2.21", { "user-agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0" });
    const phone = new FormClient(t.app, "192.0.2.22", { "user-agent": "Mozilla/5.0 (iPhone) Safari/604.1" });
    await signInFully(laptop, t.smtp, user);
    await signInFully(phone, t.smtp, user);
    const stranger = await signedIn(t);

    const profile = await laptop.get("/profile");
    expect(profile.body).toContain("Your sessions");
    expect(profile.body).toContain("192.0.2.22");
    expect(profile.body).toContain("Safari on iOS");
    expect(profile.body).toContain("This session");
    const ends = [...profile.body.matchAll(/action="\/profile\/sessions\/([^/"]+)\/end"/g)].map((m) => m[1]);
    expect(ends).toHaveLength(1);
    expect(profile.body).not.toContain(stranger.user.login_id);

    const strangerSession = (await liveSessions(t.deps, stranger.user.id))[0]!;
    const idor = await laptop.post(`/profile/sessions/${strangerSession.id}/end`);
    // Refused as a session already ended is (Profile says it is not there to end): nothing tells it exists.
    expect(idor.statusCode).toBe(303);
    expect(idor.headers.location).toBe("/profile?ended=gone#sessions");
    expect((await stranger.client.get("/profile")).statusCode).toBe(200);
    const own = (await liveSessions(t.deps, user.id)).find((s) => s.ip === "192.0.2.21")!;
    expect((await laptop.post(`/profile/sessions/${own.id}/end`)).headers.location).toBe("/profile?ended=gone#sessions");

    await laptop.get("/profile");
    const ended = await laptop.post(`/profile/sessions/${ends[0]}/end`);
    expect(ended.statusCode).toBe(303);
    expect(ended.headers.location).toBe("/profile?ended=1#sessions");
    expect((await phone.get("/profile")).headers.location).toMatch(/^\/login/);
    expect((await laptop.get("/profile")).statusCode).toBe(200);
    const audit = await t.deps.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).where("event", "=", "session.ended").execute();
    expect(audit).toHaveLength(1);
  });

  it("ASVS 3.3.4 (all): \"End all other sessions\" ends every other live session of the user, those past the list's 50 too, keeps this one and other users' alone, audited once", async () => {
    const user = await addUser(t.deps);
    const laptop = new FormClient(t.app, "192.0.2.41", { "user-agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0" });
    const phone = new FormClient(t.app, "192.0.2.42", { "user-agent": "Mozilla/5.0 (iPhone) Safari/604.1" });
    await signInFully(phone, t.smtp, user);
    await signInFully(laptop, t.smtp, user);
    const stranger = await signedIn(t);
    const alone = await laptop.get("/profile");
    expect(alone.body).toContain("End all other sessions");
    expect(alone.body).not.toContain("newest sessions are listed");

    // Browsers long closed that never signed out: 55 more sessions, older than the laptop's.
    const [template] = await liveSessions(t.deps, user.id);
    const now = t.clock.now();
    await t.deps.db
      .insertInto("sessions")
      .values(Array.from({ length: 55 }, (_, i) => ({ ...template!, id: `old-${i}`, token_hash: `old-token-${i}`, created_at: now - 60_000 - i, last_seen_at: now - 60_000 - i })))
      .execute();
    const crowded = (await laptop.get("/profile")).body;
    expect([...crowded.matchAll(/action="\/profile\/sessions\/[^/"]+\/end"/g)]).toHaveLength(49);
    expect(crowded).toContain("Only your 50 newest sessions are listed");

    const ended = await laptop.post("/profile/sessions/end-others");
    expect(ended.statusCode).toBe(303);
    expect(ended.headers.location).toBe("/profile?ended=others&count=56#sessions");
    expect((await phone.get("/profile")).headers.location).toMatch(/^\/login/);
    const after = await laptop.get("/profile?ended=others&count=56");
    expect(after.statusCode).toBe(200);
    expect(after.body).toContain("56 other sessions were ended");
    expect(after.body).not.toContain("End all other sessions");
    expect(await liveSessions(t.deps, user.id)).toHaveLength(1);
    expect((await stranger.client.get("/profile")).statusCode).toBe(200);
    const ends = await t.deps.db.selectFrom("sessions").select("end_reason").where("user_id", "=", user.id).where("ended_at", "is not", null).execute();
    expect(new Set(ends.map((s) => s.end_reason))).toEqual(new Set(["ended-by-user"]));
    const audit = await t.deps.db.selectFrom("audit").select(["event", "actor", "detail"]).where("subject", "=", user.login_id).where("event", "=", "session.ended").execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe(user.login_id);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ by: "user", others: 56 });

    // Nothing left to end: the same answer, nothing written.
    const again = await laptop.post("/profile/sessions/end-others");
    expect(again.headers.location).toBe("/profile?ended=others&count=0#sessions");
    expect((await laptop.get("/profile?ended=others&count=0")).body).toContain("You had no other sessions to end.");
    expect(await t.deps.db.selectFrom("audit").select("id").where("subject", "=", user.login_id).where("event", "=", "session.ended").execute()).toHaveLength(1);
  });

  it("Profile names each session's browser as the code email does, in the reader's language (the names kept per language do not mix), and an unrecognised one by its header", async () => {
    const user = await addUser(t.deps);
    const laptop = new FormClient(t.app, "192.0.2.31", { "user-agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0" });
    const phone = new FormClient(t.app, "192.0.2.32", { "user-agent": "Mozilla/5.0 (iPhone) Safari/604.1" });
    const script = new FormClient(t.app, "192.0.2.33", { "user-agent": "famos-sync/2.1" });
    for (const client of [laptop, phone, script]) await signInFully(client, t.smtp, user);

    const english = (await laptop.get("/profile")).body;
    expect(english).toContain("<td>Chrome on Windows</td>");
    expect(english).toContain("<td>Safari on iOS</td>");
    expect(english).toContain("<td>famos-sync/2.1</td>");

    await t.deps.db.updateTable("users").set({ locale: "de" }).where("id", "=", user.id).execute();
    const german = (await laptop.get("/profile")).body;
    expect(german).toContain("<td>Chrome unter Windows</td>");
    expect(german).toContain("<td>Safari unter iOS</td>");
    expect(german).not.toContain("Chrome on Windows");
    expect((await laptop.get("/profile")).body).toContain("<td>Chrome unter Windows</td>");
  });
});

describe("session settings and cookies", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const cookie = (response: { cookies: unknown }, name: string) =>
    (response.cookies as Array<{ name: string; secure?: boolean; httpOnly?: boolean; sameSite?: string; path?: string; domain?: string; maxAge?: number }>).find((c) => c.name === name);

  it("NIST SP 800-63B 7.2: the idle and absolute limits follow FAMOS_SESSION_IDLE and FAMOS_SESSION_MAX", async () => {
    t = await createTestApp({ env: { FAMOS_SESSION_IDLE: "5m", FAMOS_SESSION_MAX: "1h" } });
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    t.clock.advance(5 * MINUTE);
    expect((await client.get("/profile")).headers.location).toMatch(/^\/login/);
    await signInFully(client, t.smtp, user);
    for (let i = 0; i < 14; i += 1) {
      t.clock.advance(4 * MINUTE);
      expect((await client.get("/profile")).statusCode).toBe(200);
    }
    t.clock.advance(4 * MINUTE);
    expect((await client.get("/profile")).headers.location).toMatch(/^\/login/);
  });

  it("ASVS 3.4.2 / 3.4.3: over plain HTTP (development) the cookies are HttpOnly, SameSite=Lax, Path=/, without a prefix", async () => {
    t = await createTestApp();
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    const page = await client.get("/login");
    const response = await client.post("/login", { loginId: user.login_id, password: user.password });
    expect(cookie(response, "famos_session")).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(cookie(response, "famos_session")?.secure).toBeFalsy();
    expect(cookie(response, "famos_session")?.maxAge).toBeUndefined();
    expect(cookie(page, "famos_csrf")).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(response.headers["strict-transport-security"]).toBeUndefined();
    // The device cookie (OWASP device cookies: it lets a browser past the login ID's lock) and the language's.
    await client.get("/otp");
    const confirmed = await client.post("/otp", { code: await nextCode(t.smtp, user.otp_email!) });
    expect(cookie(confirmed, "famos_device")).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(cookie(confirmed, "famos_device")?.secure).toBeFalsy();
    expect(cookie(await new FormClient(t.app).get("/login?lang=de"), "famos_lang")).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
  });

  it("ASVS 3.4.1 / 3.4.4 / NIST SP 800-63B 7.1.1: with an https: FAMOS_PUBLIC_URL the cookies are __Host- and Secure, with HSTS", async () => {
    t = await createTestApp({ env: { FAMOS_PUBLIC_URL: "https://famos.example" } });
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    const page = await client.get("/login");
    expect(page.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    expect(cookie(page, "__Host-famos_csrf")).toMatchObject({ secure: true, httpOnly: true, path: "/" });
    const response = await client.post("/login", { loginId: user.login_id, password: user.password });
    const session = cookie(response, "__Host-famos_session");
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: "Lax", path: "/" });
    expect(session?.domain).toBeUndefined();
    expect(cookie(response, "famos_session")).toBeUndefined();
    expect((await client.get("/otp")).statusCode).toBe(200);
    const confirmed = await client.post("/otp", { code: await nextCode(t.smtp, user.otp_email!) });
    expect(cookie(confirmed, "__Host-famos_device")).toMatchObject({ secure: true, httpOnly: true, sameSite: "Lax", path: "/" });
    expect(cookie(confirmed, "__Host-famos_device")?.domain).toBeUndefined();
    expect(cookie(confirmed, "famos_device")).toBeUndefined();
  });

  it("ASVS 3.4.1: with FAMOS_COOKIE_DOMAIN the session cookie is __Secure- with that Domain", async () => {
    t = await createTestApp({ env: { FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_COOKIE_DOMAIN: "dealer.example" } });
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await client.get("/login");
    const response = await client.post("/login", { loginId: user.login_id, password: user.password });
    expect(cookie(response, "__Secure-famos_session")).toMatchObject({ secure: true, httpOnly: true, domain: "dealer.example", path: "/" });
    expect((await client.get("/otp")).statusCode).toBe(200);
  });

  it("ASVS 3.4.1 / 14.4.5: behind a trusted proxy saying X-Forwarded-Proto: https, a request is in HTTPS mode; an untrusted one saying so is not", async () => {
    t = await createTestApp({ env: { FAMOS_TRUST_PROXY: "127.0.0.1" } });
    const user = await addUser(t.deps);
    const viaProxy = new FormClient(t.app, "127.0.0.1", { "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7" });
    const page = await viaProxy.get("/login");
    expect(page.headers["strict-transport-security"]).toContain("max-age=");
    expect(cookie(page, "__Host-famos_csrf")?.secure).toBe(true);
    const response = await viaProxy.post("/login", { loginId: user.login_id, password: user.password });
    expect(cookie(response, "__Host-famos_session")?.secure).toBe(true);
    expect((await viaProxy.get("/otp")).statusCode).toBe(200);
    // The client address behind the proxy is what is recorded (and throttled).
    const session = (await liveSessions(t.deps, user.id))[0]!;
    expect(session.ip).toBe("198.51.100.7");

    const direct = new FormClient(t.app, "192.0.2.50", { "x-forwarded-proto": "https" });
    const plain = await direct.get("/login");
    expect(plain.headers["strict-transport-security"]).toBeUndefined();
    expect(cookie(plain, "famos_csrf")?.secure).toBeFalsy();
  });
});
