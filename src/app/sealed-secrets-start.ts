import type { Logger } from "pino";
import type { Deps } from "./deps.ts";
import { appsText, lostText, sealedSecretsToTell } from "../strong-factors/previous-secret.ts";

/**
 * `famos serve`, once it listens: what a change of FAMOS_SECRET left sealed under another key
 * (src/strong-factors/previous-secret.ts), so a change made without FAMOS_SECRET_PREVIOUS is not
 * silent. At error when an authenticator app's secret opens under neither key (its user cannot use the
 * app: an administrator who must use a strong factor cannot sign in); at warn while some open only under
 * FAMOS_SECRET_PREVIOUS. An unchanged secret costs one read; a failure is logged, not thrown.
 */
export async function tellSealedSecretsAfterStart(deps: Pick<Deps, "db" | "keys" | "random" | "clock">, logger: Pick<Logger, "warn" | "error">): Promise<void> {
  try {
    const report = await sealedSecretsToTell(deps.db, deps.keys, deps.random, deps.clock.now());
    if (report === null) return;
    if (report.lost > 0) logger.error({ apps: report.lost }, lostText(report.lost));
    if (report.apps > 0) logger.warn({ apps: report.apps }, `${appsText(report.apps)} still sealed under FAMOS_SECRET_PREVIOUS: run famos reseal`);
  } catch (error) {
    logger.error({ err: error }, "authenticator-app secrets not read at start (famos doctor reads them)");
  }
}
