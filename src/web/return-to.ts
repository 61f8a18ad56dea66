import type { Deps } from "../app/deps.ts";

/**
 * Where to go after the code. Only a path on this site is accepted: never "//host", "/\host", a
 * scheme or control characters (ASVS 5.1.5: no open redirects). Returns null when not acceptable.
 */
export function acceptReturnTo(_deps: Deps, value: string | undefined | null): string | null {
  if (!value || value.length > 2048) return null;
  if (!value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return null;
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
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

/** The redirect after a completed sign-in: the accepted return address, else the portal. */
export function returnTarget(deps: Deps, stored: string | null): string {
  return acceptReturnTo(deps, stored) ?? "/";
}
