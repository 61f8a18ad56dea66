import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveKeys } from "../../src/platform/keys.ts";
import {
  applicationCookieTag,
  applicationCookies,
  IDENTITY_HEADER_NAMES,
  identityHeaders,
  isForwardingHeaderName,
  isIdentityHeaderName,
  applicationCookieExpiries,
  upstreamRequestHeaders,
  upstreamResponseHeaders,
} from "../../src/web/upstream-headers.ts";

const USER = { login_id: "ł.kowalski", full_name: "Łukasz Kowalski", partner_number: "01234", role: "support" as const };
const KEY = deriveKeys(Buffer.alloc(32, 0xa1)).appCookie;
/** The signed-in user's tag, and another user's. */
const MINE = applicationCookieTag(KEY, "01J8ZK0000000000000000USER");
const THEIRS = applicationCookieTag(KEY, "01J8ZK0000000000000000OTHR");
/** RFC 6265 §4.1.1 cookie-name: an RFC 2616 token (no CTLs, no separators). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** SPEC "Protected application": what the application behind FAMOS is told, and what it never receives. */
describe("headers passed to the protected application", () => {
  it("names the user in four X-Famos-* headers, percent-encoded UTF-8", () => {
    expect(identityHeaders(USER)).toEqual({
      "x-famos-login-id": "%C5%82.kowalski",
      "x-famos-name": "%C5%81ukasz%20Kowalski",
      "x-famos-partner": "01234",
      "x-famos-role": "support",
    });
    expect(Object.keys(identityHeaders(USER))).toEqual([...IDENTITY_HEADER_NAMES]);
  });

  it.each(["X-Famos-Login-Id", "x-famos-role", "X_FAMOS_LOGIN_ID", "x-famos-anything", "X-FAMOS-", "xfamos-role", "x.famos.role"])("takes %s as an identity header a client may not send", (name) => {
    expect(isIdentityHeaderName(name)).toBe(true);
  });

  it.each(["x-famous", "famos-login-id", "x-forwarded-for", "x-famo"])("leaves %s alone", (name) => {
    expect(isIdentityHeaderName(name)).toBe(false);
  });

  it.each(["Forwarded", "X-Forwarded-Host", "x_forwarded_proto", "X-Forwarded-Port", "x-forwarded-prefix", "X.Forwarded.For", "X-Real-IP", "x_real_ip", "Client-IP", "True-Client-IP", "X-Client-IP", "X-Cluster-Client-IP", "X-Original-URL", "x-original-host", "X-Rewrite-URL"])(
    "takes %s as a forwarding header the client's own copy of which the application never gets",
    (name) => {
      expect(isForwardingHeaderName(name)).toBe(true);
    },
  );

  it.each(["accept", "origin", "referer", "user-agent", "x-requested-with", "x-request-id", "forwarded-by", "x-client", "x-rewrite", "host"])("leaves %s to the application", (name) => {
    expect(isForwardingHeaderName(name)).toBe(false);
  });

  it("drops every identity header the client sent, whatever its spelling, and sets FAMOS's own", () => {
    const headers = upstreamRequestHeaders(
      { host: "famos.test", "x-famos-login-id": "admin", "x_famos_role": "admin", "x-famos-extra": "1", accept: "text/html", cookie: `app.${MINE}=1` },
      USER,
      MINE,
    );
    expect(headers).toEqual({ host: "famos.test", accept: "text/html", cookie: "app=1", ...identityHeaders(USER) });
  });

  it("never passes FAMOS's cookies (the session token) on; drops the header when nothing is left", () => {
    const headers = upstreamRequestHeaders({ cookie: `famos_session=abc; __Host-famos_csrf=def; app.${THEIRS}=1` }, USER, MINE);
    expect(headers).not.toHaveProperty("cookie");
    expect(upstreamRequestHeaders({}, USER, MINE)).not.toHaveProperty("cookie");
  });

  it.each([
    [`famos_session=a; app.${MINE}=1`, "app=1"],
    [`__Host-famos_session=a;app.${MINE}=1;  __Secure-famos_session=b ; __host-FAMOS_CSRF=c`, "app=1"],
    [`app.${MINE}=1; famos_csrf=x; other.${MINE}=2`, "app=1; other=2"],
    [`famosity.${MINE}=1; my_famos_session.${MINE}=2`, "famosity=1; my_famos_session=2"],
    [`; ;app.${MINE}=1;`, "app=1"],
    [`__Host-app.${MINE}=1; __Secure-theme.${MINE}=dark`, "__Host-app=1; __Secure-theme=dark"],
    [`a.b.${MINE}=1; x.${MINE}.${MINE}=2; v.${MINE}=p=q`, `a.b=1; x.${MINE}=2; v=p=q`],
    ["famos_session", undefined],
    ["", undefined],
  ])("forwards the signed-in user's own application cookies of %j, their tag removed: %j", (cookie, kept) => {
    expect(applicationCookies(cookie, MINE)).toBe(kept);
  });

  it.each([
    ["untagged (set before cookies were bound to their user, or by someone else)", "app_session=A-state; theme=dark"],
    ["another user's", `app_session.${THEIRS}=A-state; __Host-theme.${THEIRS}=dark`],
    ["FAMOS's own, tagged or not", `famos_session=t; famos_session.${MINE}=t; __Host-famos_csrf.${MINE}=c`],
    ["tagged with the user's tag in another case, or without its dot", `app.${MINE.toUpperCase()}=1; app${MINE}=2; ${MINE}=3; .${MINE}=4`],
  ])("forwards no cookie that is %s", (_kind, cookie) => {
    expect(applicationCookies(cookie, MINE)).toBeUndefined();
  });

  it("of a Cookie header holding FAMOS's cookies, others' and the user's own, forwards only the user's own", () => {
    const cookie = `famos_session=tok; app_session.${THEIRS}=A-state; app_session=old; __Host-famos_csrf=c; app_session.${MINE}=B-state; theme.${THEIRS}=dark`;
    expect(applicationCookies(cookie, MINE)).toBe("app_session=B-state");
    expect(applicationCookies(cookie, THEIRS)).toBe("app_session=A-state; theme=dark");
  });

  it("reads a cookie header given as several lines", () => {
    expect(applicationCookies([`app.${MINE}=1`, "famos_session=a", `other.${MINE}=2`], MINE)).toBe("app=1; other=2");
    expect(applicationCookies(undefined, MINE)).toBeUndefined();
  });
});

/**
 * The application's cookies are bound to the FAMOS user they were set for (shared PCs: B, signed in
 * after A in the same browser, must not hand the application A's session or state).
 */
describe("the tag that binds the application's cookies to their user", () => {
  it("is 12 base64url characters of an HMAC-SHA256 of the user id under a key of its own", () => {
    expect(MINE).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(MINE).toBe(applicationCookieTag(KEY, "01J8ZK0000000000000000USER"));
  });

  it("differs between users, and between secrets for the same user", () => {
    expect(MINE).not.toBe(THEIRS);
    const elsewhere = deriveKeys(Buffer.alloc(32, 0xb2)).appCookie;
    expect(applicationCookieTag(elsewhere, "01J8ZK0000000000000000USER")).not.toBe(MINE);
  });

  it("is not derived from the user id alone: not its hash, not its encoding, not the id or login ID in clear", () => {
    const id = "01J8ZK0000000000000000USER";
    const plain = [
      createHash("sha256").update(id).digest("base64url"),
      createHash("sha1").update(id).digest("base64url"),
      Buffer.from(id).toString("base64url"),
      id,
    ].map((text) => text.slice(0, 12));
    expect(plain).not.toContain(MINE);
    expect(applicationCookieTag(KEY, id)).not.toContain(id.slice(-4));
  });
});

/**
 * Shared PCs: every user who signs in leaves her tagged application cookies in the browser, which sends
 * them all on every request until the Cookie header outgrows what nginx or Node accepts. A sign-in
 * expires the other users' ones the request carries.
 */
describe("the other users' application cookies a sign-in expires", () => {
  it("expires each cookie tagged for another user, at Path=/, and keeps the signing-in user's own", () => {
    const cookie = `app_session.${THEIRS}=A-state; app_session.${MINE}=B-state; theme.${THEIRS}=dark; a.b.${THEIRS}=1`;
    expect(applicationCookieExpiries(cookie, MINE)).toEqual([`app_session.${THEIRS}=; Max-Age=0; Path=/`, `theme.${THEIRS}=; Max-Age=0; Path=/`, `a.b.${THEIRS}=; Max-Age=0; Path=/`]);
    expect(applicationCookieExpiries(cookie, THEIRS)).toEqual([`app_session.${MINE}=; Max-Age=0; Path=/`]);
  });

  it("expires a __Host-/__Secure- cookie with Secure, as browsers take it only so (RFC 6265bis §4.1.3)", () => {
    expect(applicationCookieExpiries(`__Host-app.${THEIRS}=1; __Secure-theme.${THEIRS}=dark; __host-low.${THEIRS}=2`, MINE)).toEqual([
      `__Host-app.${THEIRS}=; Max-Age=0; Path=/; Secure`,
      `__Secure-theme.${THEIRS}=; Max-Age=0; Path=/; Secure`,
      `__host-low.${THEIRS}=; Max-Age=0; Path=/; Secure`,
    ]);
  });

  it.each([
    ["FAMOS's own, with or without a prefix, even when they look tagged", `famos_session=t; __Host-famos_csrf=c; famos_device=d; __Host-famos_session.${THEIRS}=t; famos_lang.${THEIRS}=en`],
    ["untagged (a load balancer's sticky cookie, one set before cookies were bound to their user)", "lb_sticky=1; app_session=old; theme.dark=1"],
    ["not a tag: shorter or longer than 12 characters, not base64url, or nothing before it", `a.${THEIRS.slice(1)}=1; b.${THEIRS}x=2; c.abcdefghijk!=3; .${THEIRS}=4; ${THEIRS}=5`],
    ["the signing-in user's own", `app.${MINE}=1; x.${THEIRS}.${MINE}=2`],
    ["not a cookie-name token, so no Set-Cookie line can name it", `bad name.${THEIRS}=1; a,b.${THEIRS}=2`],
    ["without a value at all", `app.${THEIRS}`],
  ])("leaves alone a cookie that is %s", (_kind, cookie) => {
    expect(applicationCookieExpiries(cookie, MINE)).toEqual([]);
  });

  it("reads a Cookie header of several lines, names each cookie once, and has nothing to expire without one", () => {
    expect(applicationCookieExpiries([`app.${THEIRS}=1`, `app.${THEIRS}=2; famos_session=a`], MINE)).toEqual([`app.${THEIRS}=; Max-Age=0; Path=/`]);
    expect(applicationCookieExpiries(undefined, MINE)).toEqual([]);
    expect(applicationCookieExpiries("", MINE)).toEqual([]);
  });
});

/**
 * Issue 19.4: the application's answer as the browser receives it — its headers unchanged, except that
 * it may not set FAMOS's cookies, and it is put in an opaque origin by a `sandbox` policy of its own.
 */
describe("headers of the protected application's answer", () => {
  it("copies the other headers unchanged, drops FAMOS's Set-Cookie lines whatever their prefix or case, tags the others and keeps them in order", () => {
    const headers = upstreamResponseHeaders(
      {
        "content-type": "text/html",
        "cache-control": "no-store",
        "set-cookie": ["app=1; Path=/", "famos_session=planted; Path=/", "__Host-famos_csrf=x", "__secure-FAMOS_SECTION=y", "famosity=2", "other=3; HttpOnly"],
      },
      ["allow-scripts"],
      MINE,
    );
    expect(headers).toEqual({
      "content-type": "text/html",
      "cache-control": "no-store",
      "set-cookie": [`app.${MINE}=1; Path=/`, `famosity.${MINE}=2`, `other.${MINE}=3; HttpOnly`],
      "content-security-policy": ["sandbox allow-scripts"],
    });
  });

  it("tags each cookie's name for the signed-in user, its __Host-/__Secure- prefix still first, its value and every attribute as they were", () => {
    const lines = [
      "app_session=A-state; Path=/; HttpOnly",
      "__Host-app=v; Path=/; Secure; HttpOnly; SameSite=Strict",
      "__Secure-theme=dark; Domain=dealer.example; Path=/quotation; Secure; Max-Age=3600; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Partitioned",
      "v=a=b; Path=/",
      "empty=; Max-Age=0",
      "a.b=1",
    ];
    expect(upstreamResponseHeaders({ "set-cookie": lines }, [], MINE)["set-cookie"]).toEqual([
      `app_session.${MINE}=A-state; Path=/; HttpOnly`,
      `__Host-app.${MINE}=v; Path=/; Secure; HttpOnly; SameSite=Strict`,
      `__Secure-theme.${MINE}=dark; Domain=dealer.example; Path=/quotation; Secure; Max-Age=3600; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Partitioned`,
      `v.${MINE}=a=b; Path=/`,
      `empty.${MINE}=; Max-Age=0`,
      `a.b.${MINE}=1`,
    ]);
  });

  it("gives cookie names that are RFC 6265 tokens, never starting with famos_, and that come back as the application set them", () => {
    const names = ["app", "__Host-app", "__Secure-x", "f", "famosity", "famos", "FAMOS-session", "_famos_session", "x.famos_", "a!#$%&'*+-.^_`|~z"];
    for (const name of names) {
      const line = upstreamResponseHeaders({ "set-cookie": [`${name}=1`] }, [], MINE)["set-cookie"]![0]!;
      const tagged = line.slice(0, line.indexOf("="));
      expect(tagged, name).toMatch(TOKEN);
      expect(tagged.replace(/^__(Host|Secure)-/i, ""), name).not.toMatch(/^famos_/i);
      expect(applicationCookies(`${tagged}=1`, MINE), name).toBe(`${name}=1`);
      expect(applicationCookies(`${tagged}=1`, THEIRS), name).toBeUndefined();
    }
  });

  it("drops a Set-Cookie it cannot bind to the user: no name, or a name that is not a token", () => {
    const lines = ["=nameless", "nameless", "a b=1", "a;b=1", "a@b=1", "Łódź=1", "\u0001x=1", "ok=1"];
    expect(upstreamResponseHeaders({ "set-cookie": lines }, [], MINE)["set-cookie"]).toEqual([`ok.${MINE}=1`]);
  });

  it("drops the Set-Cookie header altogether when only FAMOS's cookies were in it, and adds none when there was none", () => {
    expect(upstreamResponseHeaders({ "set-cookie": ["famos_session=planted", "__Host-famos_session=planted"] }, [], MINE)).toEqual({ "content-security-policy": ["sandbox"] });
    expect(upstreamResponseHeaders({ "content-type": "text/plain" }, [], MINE)).toEqual({ "content-type": "text/plain", "content-security-policy": ["sandbox"] });
  });

  it("reads a Set-Cookie the HTTP client gives as one string (a single cookie) as well as several lines", () => {
    expect(upstreamResponseHeaders({ "set-cookie": "famos_session=planted" as unknown as string[] }, [], MINE)["set-cookie"]).toBeUndefined();
    expect(upstreamResponseHeaders({ "set-cookie": "app=1; Path=/" as unknown as string[] }, [], MINE)["set-cookie"]).toEqual([`app.${MINE}=1; Path=/`]);
  });

  it("drops a FAMOS cookie whose line starts with blanks (a cookie name is trimmed when read: RFC 6265 §5.2)", () => {
    expect(upstreamResponseHeaders({ "set-cookie": [" famos_session=planted", "\tfamos_csrf=x", " app=1"] }, [], MINE)["set-cookie"]).toEqual([`app.${MINE}=1`]);
  });

  it("sends the sandbox as a policy of its own beside the application's, its flags space-separated after \"sandbox\"", () => {
    expect(upstreamResponseHeaders({}, [], MINE)["content-security-policy"]).toEqual(["sandbox"]);
    expect(upstreamResponseHeaders({}, ["allow-scripts", "allow-forms"], MINE)["content-security-policy"]).toEqual(["sandbox allow-scripts allow-forms"]);
    expect(upstreamResponseHeaders({ "content-security-policy": "default-src 'self'" }, ["allow-forms"], MINE)["content-security-policy"]).toEqual([
      "default-src 'self'",
      "sandbox allow-forms",
    ]);
    // Two policies of the application's own (undici gives a field sent twice as an array): each a field of its own, then the sandbox.
    const two = { "content-security-policy": ["default-src 'self'", "img-src data:"] as unknown as string };
    expect(upstreamResponseHeaders(two, [], MINE)["content-security-policy"]).toEqual(["default-src 'self'", "img-src data:", "sandbox"]);
  });
});
