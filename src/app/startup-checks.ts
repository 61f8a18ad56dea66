import type { Logger } from "pino";
import type { Config } from "../config/config.ts";
import { checkSmtp, describeSmtpCheck, type SmtpCheck } from "../mail/smtp-check.ts";
import type { Metrics } from "./metrics.ts";

/**
 * serve's SMTP check at start: a server with wrong SMTP credentials still starts (sign-ins with a
 * confirmed device, the console and health keep working, and mail waits in the outbox), but says so
 * in one clear line and in /metrics, before the first user waits for a code that cannot arrive.
 */
export async function startupSmtpCheck(config: Readonly<Config>, metrics: Metrics, logger: Pick<Logger, "info" | "error">): Promise<SmtpCheck | null> {
  if (config.smtpUrl === null) return null;
  const check = await checkSmtp(config.smtpUrl);
  metrics.smtpCheckOk.reset();
  if (check.ok) {
    metrics.smtpCheckOk.set({ failed_step: "none" }, 1);
    logger.info({ smtp: describeSmtpCheck(check) }, "SMTP check passed");
  } else {
    metrics.smtpCheckOk.set({ failed_step: check.stage }, 0);
    logger.error(`SMTP check failed${check.refused ? ": " : " at "}${describeSmtpCheck(check)}: codes cannot be mailed until FAMOS_SMTP_URL is fixed (famos doctor tells more)`);
  }
  return check;
}
