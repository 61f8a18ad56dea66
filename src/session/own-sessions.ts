import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { endUserSessions, type Session } from "./sessions.ts";

export type EndOtherOutcome = { kind: "ended" } | { kind: "not-found" };

/**
 * "End" on the Profile tab (SPEC item 6, ASVS 3.3.4): ends one of the user's other live sessions on
 * the server. The id must belong to this user and not be the session asking — checked in the one
 * UPDATE, so another user's session id does nothing (no IDOR) and nothing is read first.
 */
export async function endOtherSession(deps: Deps, user: User, current: Session, sessionId: string, ctx: RequestContext): Promise<EndOtherOutcome> {
  if (sessionId.length === 0 || sessionId.length > 64 || sessionId === current.id) return { kind: "not-found" };
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const ended = await endOwnSession(tx, user.id, sessionId, now);
    if (!ended) return { kind: "not-found" } as const;
    await auditEndedByUser(tx, user, ctx, now, { session: sessionId.slice(0, 8) });
    return { kind: "ended" } as const;
  });
}

/**
 * "End all other sessions" on the Profile tab (ASVS 3.3.4: log out of any *or all* sessions): ends
 * every live session of the user but the one asking, those the list leaves out included, in one
 * UPDATE (endUserSessions, as a password change does), audited once with how many ended. Nothing to
 * end writes nothing. Returns how many ended.
 */
export async function endAllOtherSessions(deps: Deps, user: User, current: Session, ctx: RequestContext): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const ended = await endUserSessions(tx, user.id, now, "ended-by-user", current.id);
    if (ended > 0) await auditEndedByUser(tx, user, ctx, now, { others: ended });
    return ended;
  });
}

/** The audit of sessions a user ended from Profile: which one, or how many others. */
function auditEndedByUser(tx: Kysely<Database>, user: User, ctx: RequestContext, now: number, which: { session: string } | { others: number }) {
  return recordAudit(tx, now, { event: "session.ended", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { by: "user", ...which } });
}

async function endOwnSession(db: Kysely<Database>, userId: string, sessionId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("sessions")
    .set({ ended_at: now, end_reason: "ended-by-user" })
    .where("id", "=", sessionId)
    .where("user_id", "=", userId)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
