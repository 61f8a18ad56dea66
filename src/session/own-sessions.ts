import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import type { Session } from "./sessions.ts";

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
    await recordAudit(tx, now, {
      event: "session.ended",
      actor: user.login_id,
      subject: user.login_id,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      detail: { by: "user", session: sessionId.slice(0, 8) },
    });
    return { kind: "ended" } as const;
  });
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
