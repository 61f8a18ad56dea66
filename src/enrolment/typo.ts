import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";

/** Mail domains people commonly type (UK-heavy, as FAMOS's dealers are). A domain on the list is taken as meant. */
export const COMMON_MAIL_DOMAINS = [
  "gmail.com", "googlemail.com", "hotmail.com", "hotmail.co.uk", "outlook.com", "live.com", "live.co.uk", "msn.com",
  "yahoo.com", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "aol.co.uk", "btinternet.com",
  "sky.com", "virginmedia.com", "talktalk.net", "ntlworld.com", "protonmail.com", "proton.me", "mail.com", "gmx.com", "gmx.co.uk",
];

/**
 * Optimal string alignment distance (Damerau–Levenshtein without repeated edits of one substring):
 * the edits a slip of the keyboard makes — a letter missed, added, changed, or two swapped.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The domain the person probably meant, or null: the nearest of `usual` (the partner's usual domain,
 * preferred on a tie) and the common mail domains, within one edit (two for names of 10 characters
 * or more). A domain that is itself one of them is taken as typed.
 */
export function suggestDomain(domain: string, usual: string | null): string | null {
  const typed = domain.toLowerCase();
  const candidates = [...(usual ? [usual] : []), ...COMMON_MAIL_DOMAINS];
  if (candidates.includes(typed)) return null;
  let best: { domain: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate);
    const allowed = candidate.length >= 10 ? 2 : 1;
    if (distance <= allowed && (best === null || distance < best.distance)) best = { domain: candidate, distance };
  }
  return best?.domain ?? null;
}

/** The partner's usual domain: the most common domain among the confirmed OTP emails of its users. */
export async function partnerUsualDomain(db: Kysely<Database>, partnerNumber: string): Promise<string | null> {
  const rows = await db.selectFrom("users").select("otp_email").where("partner_number", "=", partnerNumber).where("otp_email", "is not", null).limit(5000).execute();
  const counts = new Map<string, number>();
  for (const { otp_email } of rows) {
    const domain = otp_email!.slice(otp_email!.lastIndexOf("@") + 1).toLowerCase();
    counts.set(domain, (counts.get(domain) ?? 0) + 1);
  }
  let usual: string | null = null;
  for (const [domain, count] of counts) if (usual === null || count > counts.get(usual)!) usual = domain;
  return usual;
}
