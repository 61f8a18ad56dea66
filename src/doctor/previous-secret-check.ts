import type { Config } from "../config/config.ts";
import { migrationKeys } from "../app/services.ts";
import { cryptoRandom } from "../platform/random.ts";
import { openStore } from "../store/database.ts";
import { appsText, lostText, pastDeadlineText, previousSecretReport } from "../strong-factors/previous-secret.ts";
import type { CheckResult } from "./checks.ts";

/**
 * `famos doctor`'s line on what a change of FAMOS_SECRET left behind (src/strong-factors/previous-secret.ts):
 * fails when an authenticator app's secret opens under no key given (its holder cannot use it); warns
 * while FAMOS_SECRET_PREVIOUS still opens some, or is kept past its 30 days; reads only (`famos reseal`
 * seals them again; serve's first start with it records the change).
 */
export async function checkPreviousSecret(config: Readonly<Config>, clock: () => number = Date.now): Promise<CheckResult> {
  const keys = migrationKeys(config);
  if (keys === null) return { check: "keys", status: "skip", detail: "no FAMOS_SECRET yet" };
  const store = openStore(config.databaseUrl, { statementTimeoutMs: config.databaseTimeoutMs });
  try {
    const now = clock();
    const report = await previousSecretReport(store.db, keys, cryptoRandom, now, { reseal: false, record: false });
    // One row: past the deadline is said beside an app left under the old key or under none.
    const past = pastDeadlineText(report, now);
    const also = past === null ? "" : `; ${past}`;
    if (report.lost > 0) return { check: "keys", status: "fail", detail: lostText(report.lost) + also };
    if (report.apps > 0) return { check: "keys", status: "warn", detail: `${appsText(report.apps)} still sealed under FAMOS_SECRET_PREVIOUS: run famos reseal${also}` };
    if (past !== null) return { check: "keys", status: "warn", detail: past };
    const previous = keys.previous ? "; FAMOS_SECRET_PREVIOUS is set: famos reseal says when it can be removed" : "";
    return { check: "keys", status: "ok", detail: `every authenticator app's secret is sealed under FAMOS_SECRET${previous}` };
  } catch (error) {
    return { check: "keys", status: "skip", detail: `not read: ${(error as Error).message}` };
  } finally {
    await store.close();
  }
}
