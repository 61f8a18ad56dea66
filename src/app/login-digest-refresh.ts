import type { Logger } from "pino";
import type { Deps } from "./deps.ts";
import { refreshLoginDigestsIfKeyChanged } from "../users/login-digest.ts";

/**
 * `famos serve` makes each account's login ID digest (users.login_digest) again under its
 * FAMOS_SECRET, once it listens, when the key they were made under is not its own (a fingerprint kept
 * beside them, migration 023: an unchanged secret costs one read). Making them reads every account (at
 * 20,000, some hundreds of milliseconds measured), which held every start back when it came before
 * listen; until it ends after a change, only the Rollout page's "locked" figure lags. Having to make any means they were made under another
 * secret: FAMOS_SECRET changed, or an instance with another one still runs (and creates accounts,
 * counts locks under its own), and then each start of either makes them again. Said at warn, with
 * what to do. A failure is logged, not thrown: the instance serves beside it.
 */
export async function refreshLoginDigestsAfterStart(deps: Pick<Deps, "db" | "keys" | "dialect">, logger: Pick<Logger, "warn" | "error">): Promise<void> {
  try {
    const redigested = await refreshLoginDigestsIfKeyChanged(deps.db, deps.keys, deps.dialect);
    if (redigested > 0) {
      logger.warn(
        { accounts: redigested },
        "login ID digests made again under this instance's FAMOS_SECRET: they were made under another FAMOS_SECRET. " +
          "Expected once after changing it; if it repeats, an instance runs with another one: every instance must have the same FAMOS_SECRET",
      );
    }
  } catch (error) {
    logger.error({ err: error }, "login ID digests not made again under FAMOS_SECRET (the Rollout page's locked figure may miss accounts until the next start)");
  }
}
