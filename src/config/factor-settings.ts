// FAMOS_STRONG_FACTOR_ROLES and FAMOS_RP_ID: who needs a passkey or an app, and the passkeys' relying party.
import { isIPv4 } from "node:net";
import { list, type Problems } from "./problems.ts";

/**
 * Issue 13: the roles whose sign-in needs a passkey or an authenticator app. By default support and
 * admin in production (they can reset anyone's enrolment) and none in development, so the quick
 * start's demo user signs in with the emailed code alone; "none" turns it off in production.
 */
export function parseStrongFactorRoles(raw: string, problems: Problems): string[] {
  if (raw.toLowerCase() === "none") return [];
  const roles = list(raw).map((r) => r.toLowerCase());
  for (const role of roles) {
    if (!["user", "support", "admin"].includes(role)) problems.add("FAMOS_STRONG_FACTOR_ROLES", `"${role}" is not a role: list user, support or admin, or none`);
  }
  return [...new Set(roles)];
}

/**
 * FAMOS_RP_ID: a domain (never an IP address), and FAMOS_PUBLIC_URL's host must be it or under it —
 * a browser refuses any other RP ID for that origin (WebAuthn Level 3 §5.1.3 step 8, §13.4.9).
 * Changing it later orphans every passkey registered under the old one.
 */
export function parseRpId(raw: string | undefined, publicUrl: URL | null, problems: Problems): string | null {
  if (raw === undefined) return publicUrl ? publicUrl.hostname : null;
  const rpId = raw.trim().toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(rpId) || isIPv4(rpId)) {
    problems.add("FAMOS_RP_ID", `must be a domain name such as famos.dealer.example (got "${raw}")`);
    return null;
  }
  if (publicUrl && publicUrl.hostname !== rpId && !publicUrl.hostname.endsWith(`.${rpId}`)) {
    problems.add("FAMOS_RP_ID", `must be FAMOS_PUBLIC_URL's host (${publicUrl.hostname}) or a domain it is under (got "${raw}")`);
    return null;
  }
  return rpId;
}
