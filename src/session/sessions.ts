import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import { randomId, type Random } from "../platform/random.ts";
import type { Database, SessionsTable } from "../store/schema.ts";

export type Session = SessionsTable;
export type Stage = Session["stage"];

/** 256-bit tokens (ASVS 3.2.2); only their SHA-256 is stored, so the table yields no live cookie. */
export function newToken(random: Random): string {
  return randomId(random, 32);
}

export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/** Last-seen times are written at most this often: a request needs no write just to stay alive. */
const TOUCH_EVERY_MS = 60_000;

export interface NewSession {
  userId: string;
  stage: Stage;
  flowId: string | null;
  ip: string;
  userAgent: string;
}

export async function createSession(
  db: Kysely<Database>,
  random: Random,
  now: number,
  policy: Config["session"],
  input: NewSession,
): Promise<{ token: string; session: Session }> {
  const token = newToken(random);
  const session: Session = {
    token_hash: tokenHash(token),
    id: randomId(random),
    user_id: input.userId,
    stage: input.stage,
    flow_id: input.flowId,
    created_at: now,
    last_seen_at: now,
    expires_at: now + policy.maxMs,
    verified_at: null,
    ip: input.ip.slice(0, 64),
    user_agent: input.userAgent.slice(0, 512),
    ended_at: null,
    end_reason: null,
  };
  await db.insertInto("sessions").values(session).execute();
  return { token, session };
}

/**
 * The live session behind a cookie token, or null when it is unknown, ended, idle too long
 * (ASVS 3.3.2) or past its absolute lifetime.
 */
export async function loadSession(db: Kysely<Database>, token: string, now: number, policy: Config["session"]): Promise<Session | null> {
  if (token.length < 40 || token.length > 64) return null;
  const session = await db.selectFrom("sessions").selectAll().where("token_hash", "=", tokenHash(token)).executeTakeFirst();
  if (!session || session.ended_at !== null) return null;
  if (now >= session.expires_at || now - session.last_seen_at >= policy.idleMs) {
    await endSession(db, session.id, now, now >= session.expires_at ? "expired" : "idle");
    return null;
  }
  if (now - session.last_seen_at >= TOUCH_EVERY_MS) {
    await db.updateTable("sessions").set({ last_seen_at: now }).where("id", "=", session.id).execute();
    session.last_seen_at = now;
  }
  return session;
}

/**
 * Gives the session a new token and stage in one update: the old token stops working at once, so a
 * token planted before a step up is worthless after it (session fixation, ASVS 3.2.1).
 * Returns null when the session ended meanwhile.
 */
export async function advanceSession(
  db: Kysely<Database>,
  random: Random,
  session: Session,
  now: number,
  change: { stage: Stage; flowId: string | null; verifiedAt?: number },
): Promise<{ token: string; session: Session } | null> {
  const token = newToken(random);
  const hash = tokenHash(token);
  const result = await db
    .updateTable("sessions")
    .set({
      token_hash: hash,
      stage: change.stage,
      flow_id: change.flowId,
      last_seen_at: now,
      ...(change.verifiedAt !== undefined ? { verified_at: change.verifiedAt } : {}),
    })
    .where("token_hash", "=", session.token_hash)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return null;
  return {
    token,
    session: { ...session, token_hash: hash, stage: change.stage, flow_id: change.flowId, last_seen_at: now, verified_at: change.verifiedAt ?? session.verified_at },
  };
}

/** Changes the step without a new token (enrolment → its code: no new proof was given). */
export async function setSessionStep(db: Kysely<Database>, sessionId: string, stage: Stage, flowId: string | null): Promise<void> {
  await db.updateTable("sessions").set({ stage, flow_id: flowId }).where("id", "=", sessionId).where("ended_at", "is", null).execute();
}

export async function endSession(db: Kysely<Database>, sessionId: string, now: number, reason: string): Promise<boolean> {
  const result = await db
    .updateTable("sessions")
    .set({ ended_at: now, end_reason: reason })
    .where("id", "=", sessionId)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Ends every live session of a user, except one (the one making the change) when given. */
export async function endUserSessions(
  db: Kysely<Database>,
  userId: string,
  now: number,
  reason: string,
  exceptSessionId?: string,
): Promise<number> {
  let query = db.updateTable("sessions").set({ ended_at: now, end_reason: reason }).where("user_id", "=", userId).where("ended_at", "is", null);
  if (exceptSessionId) query = query.where("id", "!=", exceptSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Live, fully signed-in sessions of a user, newest first (the Profile tab's list). */
export async function listUserSessions(db: Kysely<Database>, userId: string, now: number, policy: Config["session"]): Promise<Session[]> {
  return db
    .selectFrom("sessions")
    .selectAll()
    .where("user_id", "=", userId)
    .where("ended_at", "is", null)
    .where("stage", "=", "full")
    .where("expires_at", ">", now)
    .where("last_seen_at", ">", now - policy.idleMs)
    .orderBy("created_at", "desc")
    .limit(50)
    .execute();
}
