import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";
import { COMMAND_LINE_IP, queryAudit } from "./audit.ts";
import type { AuditEventName } from "./events.ts";

/**
 * How long after an action its page's `?done=` words are said: the redirect's GET follows at once; a link
 * opened later, or written by anyone for an account nobody touched, says nothing (checkedDoneNotice).
 */
export const DONE_CLAIM_MS = 5 * 60_000;

/** A `?done=` claim of an action, as its audit event records it. */
export interface OwnClaim {
  /** The reader, as events name their actor: a colleague's action on the same account makes no claim of this reader's true. */
  actor: string;
  event: AuditEventName;
  /** The account the event is about; left out for events about none (notices, address locks, rollout). */
  subject?: string | undefined;
  /** What the event must have recorded (this notice; a factor actually removed). */
  holds?: ((detail: Record<string, unknown>) => boolean) | undefined;
}

/** Events of one reader read per claim: more than anyone does in DONE_CLAIM_MS on one page. */
const CLAIM_EVENTS = 50;

/**
 * The one check behind every `?done=` claim of an action (reader.ts ownEventClaim calls it): whether the
 * reader's own events (of a request, not the command line's) include one of that kind, on that account, that holds, written less than
 * DONE_CLAIM_MS before `now` (the injected clock). A double click's second redirect finds the first's event.
 */
export async function ownRecentEvents(db: Kysely<Database>, now: number, claim: OwnClaim): Promise<boolean> {
  const since = now - DONE_CLAIM_MS + 1;
  const events = await queryAudit(db, { actor: claim.actor, event: claim.event, subject: claim.subject, since, limit: CLAIM_EVENTS });
  // A reader is a person on a page: the command line's events (an operator's actor string could be an
  // old account's login ID, "operator:root", made before newLoginIdProblem refused it) are never hers.
  return events.some((event) => event.ip !== COMMAND_LINE_IP && (claim.holds === undefined || claim.holds(event.detail)));
}
