// FAMOS_ALLOWED_EMAIL_DOMAINS and FAMOS_SHARED_MAILBOX_*: which addresses staff may enrol as their OTP email.
import type { Config, SharedMailboxPolicy } from "./config-type.ts";
import { list, type Problems } from "./problems.ts";

export const DEFAULT_SHARED_MAILBOX_NAMES = [
  "info", "sales", "office", "team", "reception", "accounts", "service", "enquiries", "admin", "noreply",
  "no-reply", "support", "contact", "hello", "mail", "enquiry", "finance", "help",
];

export function parseEnrolment(
  read: (name: string) => string | undefined,
  byDefault: (name: string, value: string) => string,
  problems: Problems,
): Config["enrolment"] {
  const allowedDomains = list(read("FAMOS_ALLOWED_EMAIL_DOMAINS")).map((d) => d.toLowerCase());
  for (const domain of allowedDomains) {
    if (!/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(domain)) {
      problems.add("FAMOS_ALLOWED_EMAIL_DOMAINS", `"${domain}" is not a domain or *.domain`);
    }
  }
  const policyRaw = read("FAMOS_SHARED_MAILBOX_POLICY") ?? byDefault("FAMOS_SHARED_MAILBOX_POLICY", "warn");
  if (!["warn", "refuse", "off"].includes(policyRaw)) {
    problems.add("FAMOS_SHARED_MAILBOX_POLICY", `must be warn, refuse or off (got "${policyRaw}")`);
  }
  const sharedMailboxNames = list(read("FAMOS_SHARED_MAILBOX_NAMES") ?? byDefault("FAMOS_SHARED_MAILBOX_NAMES", DEFAULT_SHARED_MAILBOX_NAMES.join(","))).map((n) => n.toLowerCase());
  return { allowedDomains, sharedMailboxPolicy: policyRaw as SharedMailboxPolicy, sharedMailboxNames };
}
