import type { Kysely } from "kysely";
import { recordAudit, type Actor } from "../audit/audit.ts";
import type { Database } from "../store/schema.ts";
import { counterKey } from "./counter-key.ts";
import { giveBack, readCounters, reserve, type Counted, type CounterPolicy } from "./counter.ts";

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

export type ConsoleActionCount = { ok: true; counted: Counted } | { ok: false; until: number };

/**
 * Counts one change by the acting account `userId` before it is made; refused while their pause is
 * in force. The caller settles it with settleConsoleAction once the action has answered.
 */
export async function countConsoleAction(db: Kysely<Database>, userId: string, now: number): Promise<ConsoleActionCount> {
  const key = counterKey.consoleActor(userId);
  const counted = await reserve(db, key, now, POLICY);
  if (counted) return { ok: true, counted };
  const [state] = await readCounters(db, [key]);
  // A pause that ended between the refusal and this read: "try again now" is the truth.
  return { ok: false, until: Math.max(now, state?.lockedUntil ?? now) };
}

/**
 * A refused action (a form with a wrong field, a rule's 403, a user gone) changed nothing: its count
 * is given back, and a pause it started lifted, so a person correcting typos is not held up and only
 * changes made count. A change made stays counted; the one that reached the limit is audited, once
 * per pause.
 */
export async function settleConsoleAction(db: Kysely<Database>, counted: Counted, made: boolean, actor: Actor, now: number): Promise<void> {
  if (!made) return giveBack(db, counted);
  if (!counted.startedLock) return;
  await recordAudit(db, now, {
    event: "console.limit-reached",
    ...actor,
    subject: actor.actor,
    detail: { limit: CONSOLE_ACTIONS_LIMIT, windowMs: CONSOLE_ACTIONS_WINDOW_MS, until: counted.lockedUntil },
  });
}
