import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { accountLockInfo, unlockAccountCounters } from "../regulation/locks.ts";
import type { User } from "../users/users.ts";
import { actingNow, refusal, type Acting, type Refusal } from "./acting.ts";

export type UnlockOutcome = { kind: "unlocked"; wasLocked: boolean } | Refusal;

/**
 * "Unlock" (SPEC item 8): clears the login ID's failure counts and locks, the permanent one after
 * FAMOS_CODE_HARD_LOCK wrong codes included, those of the login ID's devices, and the self-service reset's. Audited whether or not a lock was in force.
 */
export async function unlockAccount(deps: Deps, by: Acting, target: User): Promise<UnlockOutcome> {
  // The acting person as they are now (actingNow): the console's step-up checked a password since the request read them.
  const refused = refusal(await actingNow(deps.db, by), target, "unlock");
  if (refused) return refused;
  const now = deps.clock.now();
  const before = await accountLockInfo(deps, target.login_key, now);
  const devicesLocked = before.devices.some((d) => d.hardLocked || d.lockedUntil !== null);
  const wasLocked = before.locked || devicesLocked || before.reset.locked;
  await unlockAccountCounters(deps, target.login_key);
  await recordAudit(deps.db, now, {
    ...by.audit,
    event: "unlock",
    subject: target.login_id,
    detail: {
      wasLocked,
      permanent: before.hardLocked,
      passwordFailures: before.passwordFailures,
      codeFailures: before.codeFailures,
      resetFailures: before.reset.failures,
      devicesLocked: before.devices.filter((d) => d.hardLocked || d.lockedUntil !== null).length,
    },
  });
  return { kind: "unlocked", wasLocked };
}
