import type { Config } from "../config/config.ts";
import { migrationKeys } from "../app/services.ts";
import { cryptoRandom } from "../platform/random.ts";
import { openStore } from "../store/database.ts";
import { appsText, lostText, PREVIOUS_SECRET_DAYS, previousSecretDeadline, previousSecretReport } from "../strong-factors/previous-secret.ts";
import type { CheckResult } from "./checks.ts";

/**
 * `famos doctor`'s line on what a change of FAMOS_SECRET left behind (src/strong-factors/previous-secret.ts):
 * fails when an authenticator app's secret opens under no key given (its holder cannot use it); warns
 * while FAMOS_SECRET_PREVIOUS still opens some; reads only (`famos reseal` seals them again).
 */
export async function checkPreviousSecret(config: Readonly<Config>): Promise<CheckResult> {
  const keys = migrationKeys(config);
  if (keys === null) return { check: "keys", status: "skip", detail: "no FAMOS_SECRET yet" };
  const store = openStore(config.databaseUrl, { statementTimeoutMs: config.databaseTimeoutMs });
  try {
    const now = Date.now();
    const report = await previousSecretReport(store.db, keys, cryptoRandom, now, false);
    const deadline = previousSecretDeadline(report);
    if (report.lost > 0) return { check: "keys", status: "fail", detail: lostText(report.lost) };
    if (report.apps > 0) return { check: "keys", status: "warn", detail: `${appsText(report.apps)} still sealed under FAMOS_SECRET_PREVIOUS: run famos reseal` };
    if (deadline !== null && now > deadline) {
      const left = report.recoveryCodes!.codes;
      return { check: "keys", status: "warn", detail: `FAMOS_SECRET_PREVIOUS is still set more than ${PREVIOUS_SECRET_DAYS} days after the change (${new Date(report.recoveryCodes!.since).toISOString()}): remove it (${left} unused recovery code${left === 1 ? "" : "s"} issued before the change then stop working)` };
    }
    const previous = keys.previous ? "; FAMOS_SECRET_PREVIOUS is set: famos reseal says when it can be removed" : "";
    return { check: "keys", status: "ok", detail: `every authenticator app's secret is sealed under FAMOS_SECRET${previous}` };
  } catch (error) {
    return { check: "keys", status: "skip", detail: `not read: ${(error as Error).message}` };
  } finally {
    await store.close();
  }
}
