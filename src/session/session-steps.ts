import type { Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import type { Random } from "../platform/random.ts";
import { preparedQuery } from "../store/prepared.ts";
import type { Database } from "../store/schema.ts";
import { newToken, tokenHash, type Session, type Stage } from "./sessions.ts";

// A session's steps: a new token and stage at each step up (advanceSession), the step alone where no
// new proof was given (setSessionStep), and the rules of a second factor confirmed in it.

/** A session and the token that names it, as the browser receives it (setSessionCookie). */
export interface IssuedSession {
  token: string;
  session: Session;
}

/** A session's next stage and flow, and whether a second factor of its user was just confirmed in it (advanceSession). */
export type SessionChange = { stage: Stage; flowId: string | null } & ({ verifiedAt?: undefined } | { verifiedAt: number; policy: Config["session"] });

/** No second factor verified in this session yet: the password alone opened it. */
export const passwordOnly = (session: Pick<Session, "verified_at">): boolean => session.verified_at === null;

/**
 * The change a new second factor confirmed in a full session makes to it (a new OTP email's code, an
 * authenticator app's first code, a new passkey): the one rule for all three. Confirming it proves
 * only that whoever holds the session holds the factor they have just chosen themselves, not who they
 * are, so a two-factor session keeps its verified_at: the re-authentication windows (Profile's 15
 * minutes, the console's hour, profile/reauthenticate.ts) still run from the code of its sign-in. Red
 * team 2026-12-07: a new OTP email's code renewed them, so a cookie taken within the window, moving the
 * address between mailboxes of its holder's, stayed fresh without the password until the session's end.
 * A session the password alone opened (no second factor verified in it) becomes a two-factor one.
 */
export function newFactorChange(session: Pick<Session, "verified_at">, now: number, policy: Config["session"], flowId: string | null): SessionChange {
  return passwordOnly(session) ? { stage: "full", flowId, verifiedAt: now, policy } : { stage: "full", flowId };
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
  /** `verifiedAt`: a code (or another second factor) was confirmed in it; `policy` then gives its end (verifiedSessionEnd). */
  change: SessionChange,
): Promise<IssuedSession | null> {
  const token = newToken(random);
  const hash = tokenHash(token);
  const expiresAt = change.verifiedAt !== undefined ? verifiedSessionEnd(session, change.policy) : session.expires_at;
  const [advanced] =
    change.verifiedAt !== undefined
      ? await advanceVerified(db, hash, change.stage, change.flowId, now, change.verifiedAt, expiresAt, session.token_hash)
      : await advanceUnverified(db, hash, change.stage, change.flowId, now, session.token_hash);
  if (!advanced) return null;
  return {
    token,
    session: { ...session, token_hash: hash, stage: change.stage, flow_id: change.flowId, last_seen_at: now, verified_at: change.verifiedAt ?? session.verified_at, expires_at: expiresAt, stepped_up_at: null },
  };
}

/**
 * Where a session ends once a second factor is verified in it: FAMOS_SESSION_MAX from its start, as
 * any two-factor session. The earlier end a password-only session was given (createSession's `endsBy`:
 * its wave's start, signInBeforeWave; or a start brought forward, endPasswordOnlyBeforeStart) is for
 * the password alone: a user who enrols early in it, confirming an OTP email with a code, is not cut
 * off at the start (before, they were sent back to "Log in" at the start that no longer concerned them).
 */
export function verifiedSessionEnd(session: Pick<Session, "created_at">, policy: Config["session"]): number {
  return session.created_at + policy.maxMs;
}

// Issue 17: once per sign-in, built and compiled once (with verified_at, and without). RETURNING says
// whether the session was still live: a prepared query gives its rows only.
const advanceQuery = (db: Kysely<Database>, set: Partial<Session>, oldHash: string) =>
  db.updateTable("sessions").set(set).where("token_hash", "=", oldHash).where("ended_at", "is", null).returning("id");
// It also sets the end (verifiedSessionEnd), so only while the end it had has not passed: a session
// whose end (its wave's start) came after the request loaded it is not given a new one.
const advanceVerified = preparedQuery((db, hash: string, stage: Stage, flowId: string | null, now: number, verifiedAt: number, expiresAt: number, oldHash: string) =>
  advanceQuery(db, { token_hash: hash, stage, flow_id: flowId, last_seen_at: now, verified_at: verifiedAt, expires_at: expiresAt, stepped_up_at: null }, oldHash).where("expires_at", ">", now),
);
const advanceUnverified = preparedQuery((db, hash: string, stage: Stage, flowId: string | null, now: number, oldHash: string) =>
  advanceQuery(db, { token_hash: hash, stage, flow_id: flowId, last_seen_at: now, stepped_up_at: null }, oldHash),
);

/**
 * The console's step-up password typed right in this session (profile/reauthenticate.ts,
 * CONSOLE_FRESHNESS): recorded for the token it was typed under only, so a token changed meanwhile
 * (advanceSession, which clears it) or a session ended is not given it.
 */
export async function markSteppedUp(db: Kysely<Database>, session: Pick<Session, "token_hash">, now: number): Promise<void> {
  await db.updateTable("sessions").set({ stepped_up_at: now }).where("token_hash", "=", session.token_hash).where("ended_at", "is", null).execute();
}

/**
 * Changes the step without a new token (Profile's email change → its code: no new proof was given),
 * only while the session is still at the flow the request read it at (`session.flow_id`): false when
 * another request of it (a double click) moved it first, and nothing changed.
 */
export async function setSessionStep(db: Kysely<Database>, session: Pick<Session, "id" | "flow_id">, stage: Stage, flowId: string | null): Promise<boolean> {
  const { numUpdatedRows } = await db
    .updateTable("sessions")
    .set({ stage, flow_id: flowId })
    .where("id", "=", session.id)
    .where("ended_at", "is", null)
    .where("flow_id", session.flow_id === null ? "is" : "=", session.flow_id)
    .executeTakeFirst();
  return numUpdatedRows === 1n;
}
