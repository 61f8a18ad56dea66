import { describe, expect, it } from "vitest";
import { IDENTITY_HEADER_NAMES, identityHeaders, isIdentityHeaderName, upstreamRequestHeaders, withoutFamosCookies } from "../../src/web/upstream-headers.ts";

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
