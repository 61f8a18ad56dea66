// FAMOS_BOUNCE_* and FAMOS_DKIM_*: where bounces come back, and how outgoing mail is signed.
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "./config.ts";
import type { Problems } from "./problems.ts";

const DOMAIN_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

export function parseBounce(read: (name: string) => string | undefined, smtpHost: string, problems: Problems): Config["bounce"] {
  const domain = read("FAMOS_BOUNCE_DOMAIN")?.toLowerCase() ?? null;
  if (domain !== null && !DOMAIN_NAME.test(domain)) problems.add("FAMOS_BOUNCE_DOMAIN", `must be a domain name such as bounces.dealer.example (got "${domain}")`);
  const rawPort = read("FAMOS_BOUNCE_SMTP_PORT");
  let smtpPort: number | null = null;
  if (rawPort !== undefined) {
    if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535) problems.add("FAMOS_BOUNCE_SMTP_PORT", `must be a port number from 0 to 65535 (got "${rawPort}")`);
    else smtpPort = Number(rawPort);
    if (domain === null) problems.add("FAMOS_BOUNCE_SMTP_PORT", "needs FAMOS_BOUNCE_DOMAIN: the listener takes mail for bounce+…@ that domain only");
  }
  const webhookSecret = read("FAMOS_BOUNCE_WEBHOOK_SECRET") ?? null;
  if (webhookSecret !== null && webhookSecret.length < 32) problems.add("FAMOS_BOUNCE_WEBHOOK_SECRET", "must be at least 32 characters (openssl rand -hex 32)");
  return { domain, smtpHost, smtpPort, webhookSecret };
}

export function parseDkim(read: (name: string) => string | undefined, problems: Problems): Config["dkim"] {
  const domain = read("FAMOS_DKIM_DOMAIN")?.toLowerCase();
  const selector = read("FAMOS_DKIM_SELECTOR");
  const keyFile = read("FAMOS_DKIM_KEY_FILE");
  const given = [domain, selector, keyFile].filter((v) => v !== undefined).length;
  if (given === 0) return null;
  if (given < 3) {
    problems.add("FAMOS_DKIM_DOMAIN", "FAMOS_DKIM_DOMAIN, FAMOS_DKIM_SELECTOR and FAMOS_DKIM_KEY_FILE go together: set all three or none");
    return null;
  }
  if (!DOMAIN_NAME.test(domain!)) problems.add("FAMOS_DKIM_DOMAIN", `must be a domain name such as dealer.example (got "${domain}")`);
  if (!/^[a-z0-9](?:[a-z0-9._-]{0,62})$/i.test(selector!)) problems.add("FAMOS_DKIM_SELECTOR", `must be a selector such as famos2026 (got "${selector}")`);
  try {
    // nodemailer signs with rsa-sha256 only (RFC 6376 §3.3; RFC 8463's Ed25519 is not offered).
    if (createPrivateKey(readFileSync(keyFile!, "utf8")).asymmetricKeyType !== "rsa") problems.add("FAMOS_DKIM_KEY_FILE", `must hold an RSA private key (${keyFile})`);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code?.startsWith("E") && (error as NodeJS.ErrnoException).syscall ? "cannot be read" : "is not a PEM private key";
    problems.add("FAMOS_DKIM_KEY_FILE", `${why} (${keyFile})`);
  }
  return { domain: domain!, selector: selector!, keyFile: keyFile! };
}
