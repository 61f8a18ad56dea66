import type { FastifyRequest } from "fastify";

/**
 * The one home of FAMOS's security cookies' names and of how they are read (session, section, device,
 * CSRF, password reset).
 *
 * Names: in HTTPS mode the cookie is Secure and prefixed, `__Host-` (RFC 6265bis §4.1.3.2: Secure,
 * Path=/, no Domain, so no other host can set it) unless it carries a Domain (`FAMOS_COOKIE_DOMAIN`,
 * the session cookie alone), then `__Secure-`. Plain HTTP (development) keeps the plain name.
 */
export function securityCookieName(plain: string, https: boolean, domain?: string): string {
  if (!https) return plain;
  return domain ? `__Secure-${plain}` : `__Host-${plain}`;
}

/**
 * The cookie's value; undefined when the request has none; null when the Cookie header names it more
 * than once. A browser sends every cookie whose host, Domain and Path fit, longest Path first, so
 * whoever can plant one of the same name (plain HTTP, or a sibling host when it is `__Secure-` with a
 * Domain) puts his value in front of FAMOS's, and @fastify/cookie (cookie's parse) keeps the first
 * value: the planter's session (login CSRF), or a bogus one that signs the browser out. Neither value
 * is trusted. Cheap: the raw header is searched only when the cookie is there at all.
 */
export function securityCookie(request: FastifyRequest, name: string): string | null | undefined {
  const value = request.cookies?.[name];
  if (value === undefined) return undefined;
  const header = request.headers.cookie;
  return typeof header === "string" && namedTwice(header, name) ? null : value;
}

/** Does the name start two pairs of the header? As cookie's parse reads it: a pair's name is trimmed of spaces and tabs. */
function namedTwice(header: string, name: string): boolean {
  let seen = 0;
  for (let at = header.indexOf(name); at !== -1; at = header.indexOf(name, at + 1)) {
    if (startsPair(header, at) && endsName(header, at + name.length) && ++seen > 1) return true;
  }
  return false;
}

function startsPair(header: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (header[i] === " " || header[i] === "\t")) i--;
  return i < 0 || header[i] === ";";
}

function endsName(header: string, at: number): boolean {
  let i = at;
  while (i < header.length && (header[i] === " " || header[i] === "\t")) i++;
  return header[i] === "=";
}
