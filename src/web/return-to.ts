import type { Deps } from "../app/deps.ts";
import type { Config } from "../config/config.ts";

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Where to go after the code (ASVS 5.1.5: no open redirects). Accepted are a path on this site
 * (never "//host", "/\host" or a scheme) and, for forward authentication, an absolute http(s) address
 * on an allowed host (see allowedReturnHost). Returns the normalised address, or null.
 */
export function acceptReturnTo(deps: Pick<Deps, "config">, value: string | undefined | null): string | null {
  if (!value || value.length > 2048 || CONTROL.test(value) || value.includes("\\")) return null;
  if (value.startsWith("/")) return acceptPath(value);
  return acceptAbsolute(deps.config, value);
}

/** The redirect after a completed sign-in: the accepted return address, else the portal. */
export function returnTarget(deps: Pick<Deps, "config">, stored: string | null): string {
  return acceptReturnTo(deps, stored) ?? "/";
}

function acceptPath(value: string): string | null {
  if (value.startsWith("//")) return null;
  try {
    const base = "http://famos.invalid";
    const url = new URL(value, base);
    if (url.origin !== base) return null;
    // Dot segments can collapse into "//host" ("/..//evil.example" parses to the path
    // "//evil.example"), which a browser follows as a network-path reference: check the result too.
    const path = url.pathname + url.search + url.hash;
    return path.startsWith("//") ? null : path;
  } catch {
    return null;
  }
}

function acceptAbsolute(config: Readonly<Config>, value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return allowedReturnHost(config, url) ? url.href : null;
}

/**
 * The hosts FAMOS sends people back to: FAMOS_PUBLIC_URL's host and, with FAMOS_COOKIE_DOMAIN, that
 * domain and its subdomains — exactly the hosts the session cookie reaches, so nowhere else can use a
 * sign-in. Ports are not compared because cookies do not isolate by port (RFC 6265 §8.5). Under
 * HTTPS only https: addresses qualify (the cookie is Secure); credentials in the address never do.
 */
export function allowedReturnHost(config: Readonly<Config>, url: URL): boolean {
  if (url.protocol !== "https:" && (config.https || url.protocol !== "http:")) return false;
  if (url.username !== "" || url.password !== "") return false;
  const host = url.hostname.toLowerCase();
  if (host === config.publicUrl.hostname.toLowerCase()) return true;
  const domain = cookieDomain(config);
  return domain !== null && (host === domain || host.endsWith(`.${domain}`));
}

/**
 * CSP form-action sources. Chromium applies form-action to the redirect that follows a form POST, so
 * the OTP form's 303 to an application on a sibling host needs those hosts listed next to 'self'
 * (CSP Level 3 §6.3.1: the scheme http: also matches https:).
 */
export function formActionSources(config: Readonly<Config>): string[] {
  const scheme = config.https ? "https:" : "http:";
  const host = config.publicUrl.hostname;
  // CSP host-sources have no form for IPv6 literals; such a FAMOS keeps 'self' alone.
  const sources = host.startsWith("[") ? ["'self'"] : ["'self'", `${scheme}//${host}:*`];
  const domain = cookieDomain(config);
  if (domain !== null && domain !== host) sources.push(`${scheme}//${domain}:*`);
  if (domain !== null) sources.push(`${scheme}//*.${domain}:*`);
  return sources;
}

function cookieDomain(config: Readonly<Config>): string | null {
  const domain = config.session.cookieDomain;
  return domain ? domain.replace(/^\./, "").toLowerCase() : null;
}
