import { createRequire } from "node:module";
import type * as Shared from "nodemailer/lib/shared";
import { UNREADABLE_SERVER_ADDRESS } from "../config/problems.ts";

/**
 * Why FAMOS_SMTP_URL cannot be used, or null. Read with nodemailer's own parser, the one the
 * transport and `famos doctor` use, so a URL that passes here is one they can open: before, a value
 * such as `smtp://mail relay:25` passed a prefix check and failed with a stack trace at start.
 */
export function smtpUrlProblem(url: string): string | null {
  if (!/^smtps?:\/\//.test(url)) return "must be an smtp:// or smtps:// address";
  // Loaded only when FAMOS_SMTP_URL is set: the module weighs about as much as the rest of a command's settings.
  const { parseConnectionUrl } = createRequire(import.meta.url)("nodemailer/lib/shared") as typeof Shared;
  let settings: { host?: string; port?: number };
  try {
    settings = parseConnectionUrl(url);
  } catch {
    return UNREADABLE_SERVER_ADDRESS;
  }
  if (!settings.host) return "must name the mail server, as smtp://mail.dealer.example:587";
  if (settings.port !== undefined && !(Number.isInteger(settings.port) && settings.port >= 1 && settings.port <= 65535)) {
    return `has port ${settings.port}; a port is a number from 1 to 65535`;
  }
  return null;
}
