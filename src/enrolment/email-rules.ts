import type { Config } from "../config/config.ts";

/**
 * The WHATWG HTML "valid e-mail address" production (the rule of <input type=email>): a willful
 * violation of RFC 5322 that matches what people actually use.
 */
const WHATWG_EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export type EmailProblem =
  | "missing"
  | "mismatch"
  | "invalid"
  | "too-long"
  | "domain-not-allowed"
  | "shared-mailbox"
  /** Issue 15: the domain looks like a slip (see review-address.ts). */
  | "did-you-mean"
  /** Issue 15: another login ID has confirmed this address. */
  | "address-in-use";

export type EmailCheck =
  | { ok: true; email: string; sharedMailbox: boolean }
  | { ok: false; problem: EmailProblem; message: string };

export interface EmailEntry {
  email: string;
  confirmEmail: string;
  /** The "This is my own mailbox" tick. */
  ownMailbox: boolean;
}

/**
 * SPEC item 2: both fields must match (without regard to case), WHATWG syntax, at most 254
 * characters with a local part of at most 64 (RFC 5321 §4.5.3.1), optional allowed domains, and the
 * shared-mailbox policy. Surrounding spaces are trimmed; the address is kept as typed.
 */
export function checkEmailEntry(entry: EmailEntry, policy: Config["enrolment"]): EmailCheck {
  const email = entry.email.trim();
  const confirm = entry.confirmEmail.trim();
  if (email === "") return { ok: false, problem: "missing", message: "Enter the email address that will receive your codes." };
  if (email.length > 254) return { ok: false, problem: "too-long", message: "An email address can be at most 254 characters long." };
  if (!WHATWG_EMAIL.test(email)) {
    return { ok: false, problem: "invalid", message: "Enter a valid email address, such as j.smith@dealer.example." };
  }
  const at = email.lastIndexOf("@");
  if (at > 64) return { ok: false, problem: "too-long", message: "The part before the @ can be at most 64 characters long." };
  if (confirm.toLowerCase() !== email.toLowerCase()) {
    return { ok: false, problem: "mismatch", message: "The two email addresses do not match. Type the same address in both fields." };
  }
  const domain = email.slice(at + 1).toLowerCase();
  if (policy.allowedDomains.length > 0 && /[%!]/.test(email.slice(0, at))) {
    // Source routing (RFC 1123 §5.2.16's "%-hack", UUCP bang paths): a relay that still honours
    // it sends a@dealer.example's mail for "x%evil.example@dealer.example" on to evil.example,
    // round the domain policy (issue 19.7). No real work address needs either character.
    return {
      ok: false,
      problem: "domain-not-allowed",
      message: "Use your work email address: the part before the @ may not contain % or ! here.",
    };
  }
  if (!domainAllowed(domain, policy.allowedDomains)) {
    return {
      ok: false,
      problem: "domain-not-allowed",
      message: `Use your work email address: addresses at ${domain} are not accepted here.`,
    };
  }
  const shared = isSharedMailbox(email, policy.sharedMailboxNames);
  if (shared && policy.sharedMailboxPolicy === "refuse") {
    return {
      ok: false,
      problem: "shared-mailbox",
      message: "This looks like a shared group mailbox. Use your individually assigned work email address.",
    };
  }
  if (shared && policy.sharedMailboxPolicy === "warn" && !entry.ownMailbox) {
    return {
      ok: false,
      problem: "shared-mailbox",
      message:
        "This looks like a shared group mailbox, which other people can read. Use your individually assigned work email address, or tick \"This is my own mailbox\" if it is yours alone.",
    };
  }
  return { ok: true, email, sharedMailbox: shared && policy.sharedMailboxPolicy !== "off" };
}

/** `dealer.example` allows that domain only; `*.dealer.example` its subdomains only. Empty: any. */
export function domainAllowed(domain: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  return allowed.some((rule) =>
    rule.startsWith("*.") ? domain.endsWith(rule.slice(1)) && domain.length > rule.length - 1 : domain === rule,
  );
}

/** A role local part such as info@ or sales@ (ignoring case, and "+tag" suffixes). */
export function isSharedMailbox(email: string, names: readonly string[]): boolean {
  const local = email.slice(0, email.lastIndexOf("@")).toLowerCase().split("+")[0]!;
  return names.includes(local);
}
