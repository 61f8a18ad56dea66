import type { Logger } from "pino";
import type { Deps } from "./deps.ts";
import { appsText, lostText, pastDeadlineText, sealedSecretsToTell } from "../strong-factors/previous-secret.ts";

/**
 * `famos serve`, once it listens: what a change of FAMOS_SECRET left sealed under another key
 * (src/strong-factors/previous-secret.ts), so a change made without FAMOS_SECRET_PREVIOUS is not
 * silent. At error when an authenticator app's secret opens under neither key (its user cannot use the
 * app: an administrator who must use a strong factor cannot sign in); at warn while some open only under
 * FAMOS_SECRET_PREVIOUS, and at each start once FAMOS_SECRET_PREVIOUS is kept past its 30 days (as
 * `famos doctor` says). The first start with FAMOS_SECRET_PREVIOUS records the change as seen (the 30
 * days count from then). An unchanged secret costs one read; a failure is logged, not thrown.
 */
export async function tellSealedSecretsAfterStart(deps: Pick<Deps, "db" | "dialect" | "keys" | "random" | "clock">, logger: Pick<Logger, "warn" | "error">): Promise<void> {
  try {
    const now = deps.clock.now();
    const report = await sealedSecretsToTell(deps.db, deps.dialect, deps.keys, deps.random, now);
    if (report === null) return;
    if (report.lost > 0) logger.error({ apps: report.lost }, lostText(report.lost));
    if (report.apps > 0) logger.warn({ apps: report.apps }, `${appsText(report.apps)} still sealed under FAMOS_SECRET_PREVIOUS: run famos reseal`);
    const past = pastDeadlineText(report, now);
    if (past !== null) logger.warn({ recoveryCodes: report.recoveryCodes!.codes }, past);
  } catch (error) {
    logger.error({ err: error }, "authenticator-app secrets not read at start (famos doctor reads them)");
  }
}
