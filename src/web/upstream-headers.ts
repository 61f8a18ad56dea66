import type { IncomingHttpHeaders } from "node:http";
import type { User } from "../users/users.ts";

/** The identity headers of SPEC "Protected application", in the order the README lists them. */
export const IDENTITY_HEADER_NAMES = ["x-famos-login-id", "x-famos-name", "x-famos-partner", "x-famos-role"] as const;

/**
 * The signed-in user as the protected application receives it. Values are percent-encoded UTF-8
 * (RFC 3986 §2.1) because a header field value is ASCII in practice (RFC 9110 §5.5): "Łukasz" arrives
 * as "%C5%81ukasz" and the application decodes it with decodeURIComponent or its language's equivalent.
 */
export function identityHeaders(user: Pick<User, "login_id" | "full_name" | "partner_number" | "role">): Record<string, string> {
  return {
    "x-famos-login-id": encodeURIComponent(user.login_id),
    "x-famos-name": encodeURIComponent(user.full_name),
    "x-famos-partner": encodeURIComponent(user.partner_number),
    "x-famos-role": encodeURIComponent(user.role),
  };
}

/**
 * True for a header a client may have sent to pose as someone. Every X-Famos-* name counts, not only
 * the four FAMOS sets, whatever separates its words: CGI-style servers (PHP, WSGI, Rack) turn
 * X-Famos-Login-Id and X_Famos_Login_Id into HTTP_X_FAMOS_LOGIN_ID, and other stacks fold "." or
 * drop separators altogether (issue 19.7: X-Famos.Role passed). So a name counts when, with every
 * character that is not a letter or digit removed, it starts with "xfamos".
 */
export function isIdentityHeaderName(name: string): boolean {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "").startsWith("xfamos");
}

/**
 * The request headers for the application: the client's X-Famos-* headers removed (node merges
 * duplicates of one name, and names arrive lower-cased, so each goes whatever its case or count),
 * FAMOS's own cookies removed, then FAMOS's identity headers set.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, user: Parameters<typeof identityHeaders>[0]): IncomingHttpHeaders {
  const result: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!isIdentityHeaderName(name)) result[name] = value;
  }
  const cookie = withoutFamosCookies(headers.cookie);
  if (cookie === undefined) delete result.cookie;
  else result.cookie = cookie;
  return { ...result, ...identityHeaders(user) };
}

/**
 * A Cookie header without FAMOS's cookies (famos_session, famos_csrf, with or without the __Host- and
 * __Secure- prefixes): the application must never hold the session token, which would let it, or
 * anyone who reads its logs, act as the user in FAMOS. Undefined when nothing is left.
 */
export function withoutFamosCookies(cookie: string | string[] | undefined): string | undefined {
  if (cookie === undefined) return undefined;
  const pairs = (Array.isArray(cookie) ? cookie.join("; ") : cookie).split(";").map((pair) => pair.trim());
  const kept = pairs.filter((pair) => {
    if (pair === "") return false;
    return !isFamosCookieName(pair.split("=", 1)[0]!);
  });
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/** FAMOS's cookie names (session, CSRF, section cookie), with or without the __Host- and __Secure- prefixes. */
function isFamosCookieName(name: string): boolean {
  return /^famos_/i.test(name.trim().replace(/^__(Host|Secure)-/i, ""));
}

/**
 * The application's answer as the browser receives it (issue 19.4). The application shares FAMOS's
 * origin in reverse-proxy mode, so a script in one of its pages (its own, or one injected into it)
 * could read FAMOS's pages and post FAMOS's forms, CSRF token and all. `Content-Security-Policy:
 * sandbox` (CSP Level 3 §6.3.2, HTML's sandboxing flags) puts every such page in an opaque origin:
 * its scripts, forms and links still work, but FAMOS's pages are another origin to them. It is sent
 * as a header of its own, so the application's own policy still applies beside it. The application
 * may not set FAMOS's cookies either (a planted session cookie is session fixation).
 */
export function upstreamResponseHeaders(headers: IncomingHttpHeaders, sandbox: readonly string[]): IncomingHttpHeaders {
  const result: IncomingHttpHeaders = { ...headers };
  // undici, the proxy's HTTP client, gives a single Set-Cookie as a string and several as an array.
  const setCookie: string | string[] | undefined = headers["set-cookie"];
  if (setCookie !== undefined) {
    const kept = [setCookie].flat().filter((line) => !isFamosCookieName(line.split("=", 1)[0]!));
    if (kept.length > 0) result["set-cookie"] = kept;
    else delete result["set-cookie"];
  }
  const own = headers["content-security-policy"];
  const policy = ["sandbox", ...sandbox].join(" ");
  result["content-security-policy"] = (own === undefined ? [policy] : [own, policy]) as unknown as string;
  return result;
}
