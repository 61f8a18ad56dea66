import type { IncomingMessage } from "node:http";

const REFUSED = Symbol("famos.refusedTarget");
const ASTERISK = 42; // "*"
type Marked = IncomingMessage & { [REFUSED]?: true };

/**
 * Fastify's rewriteUrl, run once per request before routing: every request's `url` in origin-form
 * (a path and query), so no code of FAMOS reads a host in it. RFC 9112 3.2.2: a server MUST accept a
 * target in absolute-form (`POST http://host/support/… HTTP/1.1`, what a browser sends to a forward
 * proxy), and Fastify's router routes it by its path, but `request.url` kept the whole of it: the
 * sign-in's returnTo, the console's error page and its step-up form read a host from it.
 *
 * Reduced to its path rather than refused: the RFC says to accept it, and it names the host the Host
 * header names for a browser that sent it through a proxy. The target's host stands for the Host
 * header (RFC 9112 3.2.2: the Host header is then ignored), so when the two differ the request says
 * two hosts and is refused as unreadable (isRefusedTarget, input-guard.ts), as one with two Host
 * headers is: what FAMOS (origin.ts, the proxied x-forwarded-host) reads as the host stays the one a
 * front proxy routed by. The path is cut from the target as written, not parsed, so that it routes as
 * the same path in origin-form would. Asterisk-form (`OPTIONS *`), authority-form and any other target
 * stay as they are for the router to refuse (`CONNECT` never reaches it: see connectAnswer). Asterisk-form
 * with another method (RFC 9112 3.2.4: OPTIONS only) is marked for the same 400: the router looked
 * `GET *` and `HEAD *` up as the root and answered with the sign-in page.
 *
 * Synchronous and called for every request anyway: a path (nearly every request) costs one comparison.
 */
export function originFormTarget(req: IncomingMessage): string {
  const target = req.url ?? "/";
  if (target.charCodeAt(0) === 47) return target; // "/"
  if (target.charCodeAt(0) === ASTERISK) {
    if (target.length === 1 && req.method !== "OPTIONS") (req as Marked)[REFUSED] = true;
    return target;
  }
  const schemeEnd = target.indexOf("://");
  if (schemeEnd === -1) return target; // no scheme: not absolute-form ("https" alone is no "http" target)
  const scheme = target.slice(0, schemeEnd).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return target;
  if (target.includes("#")) return target; // not a request target: the router's 400
  const start = schemeEnd + 3;
  const slash = target.indexOf("/", start);
  const query = target.indexOf("?", start);
  const end = slash === -1 ? query : query === -1 ? slash : Math.min(slash, query);
  const authority = end === -1 ? target.slice(start) : target.slice(start, end);
  if (authority === "") return target;
  const rest = end === -1 ? "" : target.slice(end);
  const host = req.headers.host;
  const named = hostOf(scheme, authority);
  if (named === null || (host !== undefined && named !== hostOf(scheme, host))) (req as Marked)[REFUSED] = true;
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/** The target was in absolute-form and named another host than the Host header, or was `*` without OPTIONS: refused with 400. */
export function isRefusedTarget(req: IncomingMessage): boolean {
  return (req as Marked)[REFUSED] === true;
}

/** A host and port as the URL parser writes it (lower case, the scheme's default port left out); null if none. */
function hostOf(scheme: string, authority: string): string | null {
  try {
    const url = new URL(`${scheme}://${authority}/`);
    return url.username === "" && url.password === "" ? url.host : null;
  } catch {
    return null;
  }
}
