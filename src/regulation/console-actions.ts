import type { Kysely } from "kysely";
import { recordAudit, type Actor } from "../audit/audit.ts";
import type { Database } from "../store/schema.ts";
import { counterKey } from "./counter-key.ts";
import { readCounters, reserve, type CounterPolicy } from "./counter.ts";

/**
 * How many changes one support person makes in the console per window (the routes marked
 * `consoleWrite`): an OTP email reset, an unlock, a notice… Sixty in ten minutes is a change every ten
 * seconds, more than a person on the phone makes; a stolen support cookie replayed by a script makes
 * that many in a second. Past it the person's changes wait until the window's pause ends; reading goes on.
 */
export const CONSOLE_ACTIONS_LIMIT = 60;
export const CONSOLE_ACTIONS_WINDOW_MS = 10 * 60_000;

/**
 * On the throttles table, as the sign-in's counters: one conditional statement counts the change and
 * refuses it while the pause is in force (STYLE rule 12), so a burst over many instances sharing the
 * database lets no more than the limit through. The change that reaches the limit starts a pause of
 * one window.
 */
const POLICY: CounterPolicy = { after: CONSOLE_ACTIONS_LIMIT, baseMs: CONSOLE_ACTIONS_WINDOW_MS, maxMs: CONSOLE_ACTIONS_WINDOW_MS, windowMs: CONSOLE_ACTIONS_WINDOW_MS, hardAfter: null };

export type ConsoleActionCount = { ok: true } | { ok: false; until: number };

/** Counts one change by `actor` (the acting account `userId`); refused while their pause is in force. Audited once, when the limit is reached. */
export async function countConsoleAction(db: Kysely<Database>, userId: string, actor: Actor, now: number): Promise<ConsoleActionCount> {
  const key = counterKey.consoleActor(userId);
  const counted = await reserve(db, key, now, POLICY);
  if (!counted) {
    const [state] = await readCounters(db, [key]);
    // A pause that ended between the refusal and this read: "try again now" is the truth.
    return { ok: false, until: Math.max(now, state?.lockedUntil ?? now) };
  }
  if (counted.startedLock) {
    await recordAudit(db, now, {
      event: "console.limit-reached",
      ...actor,
      subject: actor.actor,
      detail: { limit: CONSOLE_ACTIONS_LIMIT, windowMs: CONSOLE_ACTIONS_WINDOW_MS, until: counted.lockedUntil },
    });
  }
  return { ok: true };
}
