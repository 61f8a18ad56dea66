import { describe, expect, it } from "vitest";
import { IDENTITY_HEADER_NAMES, identityHeaders, isIdentityHeaderName, upstreamRequestHeaders, upstreamResponseHeaders, withoutFamosCookies } from "../../src/web/upstream-headers.ts";

const USER = { login_id: "ł.kowalski", full_name: "Łukasz Kowalski", partner_number: "01234", role: "support" as const };

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

  it("drops every identity header the client sent, whatever its spelling, and sets FAMOS's own", () => {
    const headers = upstreamRequestHeaders(
      { host: "famos.test", "x-famos-login-id": "admin", "x_famos_role": "admin", "x-famos-extra": "1", accept: "text/html", cookie: "app=1" },
      USER,
    );
    expect(headers).toEqual({ host: "famos.test", accept: "text/html", cookie: "app=1", ...identityHeaders(USER) });
  });

  it("never passes FAMOS's cookies (the session token) on; drops the header when nothing is left", () => {
    const headers = upstreamRequestHeaders({ cookie: "famos_session=abc; __Host-famos_csrf=def" }, USER);
    expect(headers).not.toHaveProperty("cookie");
    expect(upstreamRequestHeaders({}, USER)).not.toHaveProperty("cookie");
  });

  it.each([
    ["famos_session=a; app=1", "app=1"],
    ["__Host-famos_session=a;app=1;  __Secure-famos_session=b ; __host-FAMOS_CSRF=c", "app=1"],
    ["app=1; famos_csrf=x; other=2", "app=1; other=2"],
    ["famosity=1; my_famos_session=2", "famosity=1; my_famos_session=2"],
    ["; ;app=1;", "app=1"],
    ["f__Host-amos_x=1; x__Secure-famos_session=2", "f__Host-amos_x=1; x__Secure-famos_session=2"],
    ["famos_session", undefined],
    ["", undefined],
  ])("keeps the application's cookies of %j: %j", (cookie, kept) => {
    expect(withoutFamosCookies(cookie)).toBe(kept);
  });

  it("reads a cookie header given as several lines", () => {
    expect(withoutFamosCookies(["app=1", "famos_session=a", "other=2"])).toBe("app=1; other=2");
    expect(withoutFamosCookies(undefined)).toBeUndefined();
  });
});

/**
 * Issue 19.4: the application's answer as the browser receives it — its headers unchanged, except that
 * it may not set FAMOS's cookies, and it is put in an opaque origin by a `sandbox` policy of its own.
 */
describe("headers of the protected application's answer", () => {
  it("copies the other headers unchanged, drops FAMOS's Set-Cookie lines whatever their prefix or case, keeps the others in order", () => {
    const headers = upstreamResponseHeaders(
      {
        "content-type": "text/html",
        "cache-control": "no-store",
        "set-cookie": ["app=1; Path=/", "famos_session=planted; Path=/", "__Host-famos_csrf=x", "__secure-FAMOS_SECTION=y", "famosity=2", "other=3; HttpOnly"],
      },
      ["allow-scripts"],
    );
    expect(headers).toEqual({
      "content-type": "text/html",
      "cache-control": "no-store",
      "set-cookie": ["app=1; Path=/", "famosity=2", "other=3; HttpOnly"],
      "content-security-policy": ["sandbox allow-scripts"],
    });
  });

  it("drops the Set-Cookie header altogether when only FAMOS's cookies were in it, and adds none when there was none", () => {
    expect(upstreamResponseHeaders({ "set-cookie": ["famos_session=planted", "__Host-famos_session=planted"] }, [])).toEqual({ "content-security-policy": ["sandbox"] });
    expect(upstreamResponseHeaders({ "content-type": "text/plain" }, [])).toEqual({ "content-type": "text/plain", "content-security-policy": ["sandbox"] });
  });

  it("reads a Set-Cookie the HTTP client gives as one string (a single cookie) as well as several lines", () => {
    expect(upstreamResponseHeaders({ "set-cookie": "famos_session=planted" as unknown as string[] }, [])["set-cookie"]).toBeUndefined();
    expect(upstreamResponseHeaders({ "set-cookie": "app=1; Path=/" as unknown as string[] }, [])["set-cookie"]).toEqual(["app=1; Path=/"]);
  });

  it("drops a FAMOS cookie whose line starts with blanks (a cookie name is trimmed when read: RFC 6265 §5.2)", () => {
    expect(upstreamResponseHeaders({ "set-cookie": [" famos_session=planted", "\tfamos_csrf=x", " app=1"] }, [])["set-cookie"]).toEqual([" app=1"]);
  });

  it("sends the sandbox as a policy of its own beside the application's, its flags space-separated after \"sandbox\"", () => {
    expect(upstreamResponseHeaders({}, [])["content-security-policy"]).toEqual(["sandbox"]);
    expect(upstreamResponseHeaders({}, ["allow-scripts", "allow-forms"])["content-security-policy"]).toEqual(["sandbox allow-scripts allow-forms"]);
    expect(upstreamResponseHeaders({ "content-security-policy": "default-src 'self'" }, ["allow-forms"])["content-security-policy"]).toEqual([
      "default-src 'self'",
      "sandbox allow-forms",
    ]);
  });
});
