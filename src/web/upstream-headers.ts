import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { User } from "../users/users.ts";
import { withoutConnectionFields } from "./relayed-headers.ts";

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
 * The identity a proxied request or WebSocket gave the application, as one string to compare: a live
 * channel opened under another (a role, partner number or name changed since) no longer says who is
 * there (websocket-sessions.ts closes it).
 */
export function identityKey(user: Parameters<typeof identityHeaders>[0]): string {
  return JSON.stringify(identityHeaders(user));
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

/** Exact names (letters and digits only, see isForwardingHeaderName) a client may have sent to pose as another address or URL. */
const FORWARDING_NAMES = new Set(["forwarded", "xrealip", "xclientip", "clientip", "trueclientip", "xclusterclientip", "xrewriteurl"]);

/**
 * True for a header in which a proxy tells the application where a request came from or what it
 * first asked for: RFC 7239's Forwarded, every X-Forwarded-*, X-Real-IP and the other client-address
 * headers frameworks read (Rails reads Client-IP, Akamai sets True-Client-IP), and the URL overrides
 * X-Original-* and X-Rewrite-URL (Symfony and IIS route by them). In front of the application FAMOS is
 * that proxy: what it knows it states itself (X-Forwarded-For, -Proto, -Host, set by the proxy route
 * after this), and a client's own such headers would be taken as FAMOS's word: Forwarded: host=…
 * makes an application that prefers it (Spring's ForwardedHeaderFilter) write links to another host.
 * Compared as isIdentityHeaderName compares, without the non-alphanumerics, for the same CGI reason.
 */
export function isForwardingHeaderName(name: string): boolean {
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return FORWARDING_NAMES.has(plain) || plain.startsWith("xforwarded") || plain.startsWith("xoriginal");
}

/**
 * The request headers for the application: the client's X-Famos-* headers removed (node merges
 * duplicates of one name, and names arrive lower-cased, so each goes whatever its case or count), and
 * its forwarding headers (isForwardingHeaderName) and the connection's own (withoutConnectionFields), the Cookie header cut to the signed-in user's own
 * application cookies (applicationCookies), then FAMOS's identity headers set.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, user: Parameters<typeof identityHeaders>[0], tag: string): IncomingHttpHeaders {
  const result: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(withoutConnectionFields(headers))) {
    if (!isIdentityHeaderName(name) && !isForwardingHeaderName(name)) result[name] = value;
  }
  const cookie = applicationCookies(headers.cookie, tag);
  if (cookie === undefined) delete result.cookie;
  else result.cookie = cookie;
  return { ...result, ...identityHeaders(user) };
}

/**
 * The application's cookies are bound to the FAMOS user they were set for. Staff share PCs: when A
 * signs out (or her session lapses) and B signs in on the same browser, the browser still sends what
 * the application set for A, and an application that keeps its session or state in a cookie would show
 * B what is A's. So each of its cookies goes to the browser under a name that ends in its user's tag
 * (`app_session` becomes `app_session.<tag>`; a `__Host-`/`__Secure-` prefix stays first), and comes
 * back to the application under its own name only in that user's requests. The tag is per user, not
 * per session, so a user's own preferences in the application outlive her sign-in.
 *
 * The tag: the first 12 base64url characters (72 bits) of HMAC-SHA256 over the user id, under a key
 * of its own derived from FAMOS_SECRET (keys.appCookie). Nobody without the key can tell whose a
 * cookie is or make one that passes as another user's; the user id never appears in the browser.
 */
export function applicationCookieTag(key: Buffer, userId: string): string {
  return createHmac("sha256", key).update(userId).digest("base64url").slice(0, 12);
}

/** RFC 6265 §4.1.1: a cookie-name is a token (RFC 9110 §5.6.2: visible ASCII but separators). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The Cookie header the application receives: only the cookies tagged for the signed-in user, under
 * the names the application gave them. FAMOS's own cookies (famos_session, famos_csrf: the application
 * must never hold the session token, which would let it, or anyone who reads its logs, act as the user
 * in FAMOS), other users' cookies and untagged ones stay behind — an application cookie set before
 * cookies were tagged goes once, and the application sets it again. Undefined when nothing is left.
 */
export function applicationCookies(cookie: string | string[] | undefined, tag: string): string | undefined {
  const kept = taggedCookies(cookie)
    .filter((c) => c.tag === tag)
    .map((c) => c.own + c.pair.slice(c.name.length));
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/** A name as taggedSetCookie gives it: the application's name, a dot, then a tag (applicationCookieTag's 12 base64url characters). */
const TAGGED_NAME = /^(.+)\.([A-Za-z0-9_-]{12})$/;

/**
 * The cookies of a Cookie header that carry a tag (node gives one line; several are read alike): each
 * with its name as the browser has it, its name=value pair, the application's own name and the tag.
 * FAMOS's own names never count as the application's, tagged or not.
 */
function taggedCookies(cookie: string | string[] | undefined): { name: string; pair: string; own: string; tag: string }[] {
  if (cookie === undefined) return [];
  return [cookie]
    .flat()
    .join("; ")
    .split(";")
    .flatMap((part) => {
      const pair = part.trim();
      if (!pair.includes("=")) return [];
      const name = pair.split("=", 1)[0]!;
      const tagged = TAGGED_NAME.exec(name);
      return tagged && !isFamosCookieName(tagged[1]!) ? [{ name, pair, own: tagged[1]!, tag: tagged[2]! }] : [];
    });
}

/**
 * Shared PCs: every user who signs in on a browser leaves her tagged application cookies in it, and
 * the browser sends them all with every request to the host; with twenty users the Cookie header
 * outgrows what nginx (8 KB a header line by default) or Node (16 KB of headers) accepts, and every
 * request from that browser is refused, FAMOS's own pages too. So a sign-in expires the cookies of
 * other users the request carries (expireOtherUsersCookies in auth.ts): these are its Set-Cookie lines,
 * one per cookie whose name ends in "." and a tag other than `keep`, the signing-in user's (without
 * `keep`, every user's: a request too large to be read, whose user FAMOS cannot know, client-errors.ts).
 * At Path=/, with Secure for a __Host-/__Secure- name (RFC 6265bis §4.1.3: a browser takes such a cookie only so),
 * without Domain: a cookie the application set with another Path or a Domain stays (FAMOS does not
 * know them). FAMOS's own cookies never match, nor untagged ones (a load balancer's sticky cookie).
 * An untagged cookie whose name happens to end in "." and 12 base64url characters would be taken for
 * a tagged one: accepted, as a line without Domain expires only a cookie of this very host, whose
 * cookies are FAMOS's, its load balancer's and the application's (all tagged). A tag that proves
 * itself (part of it a MAC of the rest) would rule that out, at the price of a new format that drops
 * every application cookie once, and fewer bits telling users apart.
 */
export function applicationCookieExpiries(cookie: string | string[] | undefined, keep?: string): string[] {
  const lines = new Set<string>();
  for (const { name, tag } of taggedCookies(cookie)) {
    if (tag === keep || !COOKIE_NAME.test(name)) continue;
    lines.add(`${name}=; Max-Age=0; Path=/${/^__(Host|Secure)-/i.test(name) ? "; Secure" : ""}`);
  }
  return [...lines];
}

/**
 * A Set-Cookie line of the application as the browser receives it: the name tagged for the signed-in
 * user (see applicationCookieTag), the value and every attribute as they were. Null for a line that
 * sets one of FAMOS's cookies (a planted session cookie is session fixation) and for one whose name
 * is not a cookie-name token (none, or one with blanks or separators), which cannot be bound.
 */
function taggedSetCookie(line: string, tag: string): string | null {
  const pair = line.split(";", 1)[0]!;
  const equals = pair.indexOf("=");
  if (equals < 0) return null;
  const name = pair.slice(0, equals).trim();
  if (!COOKIE_NAME.test(name) || isFamosCookieName(name)) return null;
  return `${name}.${tag}${line.slice(line.indexOf("="))}`;
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
 * may not set FAMOS's cookies either, and its own are tagged for the signed-in user (taggedSetCookie).
 */
export function upstreamResponseHeaders(headers: IncomingHttpHeaders, sandbox: readonly string[], tag: string): IncomingHttpHeaders {
  const result: IncomingHttpHeaders = { ...headers };
  // undici, the proxy's HTTP client, gives a single Set-Cookie as a string and several as an array.
  const setCookie: string | string[] | undefined = headers["set-cookie"];
  if (setCookie !== undefined) {
    const kept = [setCookie].flat().flatMap((line) => taggedSetCookie(line, tag) ?? []);
    if (kept.length > 0) result["set-cookie"] = kept;
    else delete result["set-cookie"];
  }
  const own = headers["content-security-policy"];
  const policy = ["sandbox", ...sandbox].join(" ");
  // undici gives a field the application sent twice as an array: each of its policies stays a field of its own.
  result["content-security-policy"] = [...[own ?? []].flat(), policy] as unknown as string;
  return result;
}
