import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import { randomId, type Random } from "../platform/random.ts";
import type { Dialect } from "../store/database.ts";
import { preparedInsert, preparedQuery } from "../store/prepared.ts";
import type { Database, FlowsTable, SessionsTable, UsersTable } from "../store/schema.ts";

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
  /** A time the session must not outlive, earlier than FAMOS_SESSION_MAX allows (a password-only session ends at its wave's start). */
  endsBy?: number;
}

const insertSession = preparedInsert("sessions", [
  "token_hash", "id", "user_id", "stage", "flow_id", "created_at", "last_seen_at", "expires_at", "verified_at", "stepped_up_at", "ip", "user_agent", "ended_at", "end_reason",
]);

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
    expires_at: Math.min(now + policy.maxMs, input.endsBy ?? Infinity),
    verified_at: null,
    stepped_up_at: null,
    ip: input.ip.slice(0, 64),
    user_agent: input.userAgent.slice(0, 512),
    ended_at: null,
    end_reason: null,
  };
  await insertSession(db, session);
  return { token, session };
}

/**
 * The live session behind a cookie token with its user, read in one query, or null when it is
 * unknown, ended, idle too long (ASVS 3.3.2) or past its absolute lifetime. `withFlow`: the session's
 * sign-in flow (null: none, or gone) is read in the same statement, for a route that reads it anyway
 * (issue 17: POST /otp's flow read was a statement of its own, the same request's, a moment later).
 */
export async function loadSignedIn(
  db: Kysely<Database>,
  token: string,
  now: number,
  policy: Config["session"],
  withFlow = false,
): Promise<{ session: Session; user: UsersTable; flow?: FlowsTable | null } | null> {
  if (token.length < 40 || token.length > 64) return null;
  const [joined] = withFlow ? await sessionWithUserAndFlow(db, tokenHash(token)) : await sessionWithUser(db, tokenHash(token));
  if (!joined) return null;
  // Each part named, not taken apart with `...rest`: a rest that leaves out 18 or 27 names copies the
  // row key by key in V8's slow path, ~5 µs, on every signed-in request (issue 17). The session's
  // columns in the table's order, as `selectAll("sessions")` gives them.
  const row = joined as typeof joined & Partial<FlowColumns>;
  const flow = !withFlow ? undefined : row.f_id == null ? null : { id: row.f_id, user_id: row.f_user_id!, kind: row.f_kind!, email: row.f_email!, created_at: row.f_created_at!, codes_sent: row.f_codes_sent!, last_code_at: row.f_last_code_at ?? null, finished_at: row.f_finished_at ?? null, return_to: row.f_return_to ?? null };
  const session: Session = {
    token_hash: row.token_hash,
    id: row.id,
    user_id: row.user_id,
    stage: row.stage,
    flow_id: row.flow_id,
    created_at: row.created_at,
    last_seen_at: row.last_seen_at,
    expires_at: row.expires_at,
    verified_at: row.verified_at,
    ip: row.ip,
    user_agent: row.user_agent,
    ended_at: row.ended_at,
    end_reason: row.end_reason,
    stepped_up_at: row.stepped_up_at,
  };
  const u_disabled_at = row.u_disabled_at;
  const lapse = sessionLapse(session, u_disabled_at, now, policy);
  if (lapse === "ended") return null;
  if (lapse !== null) {
    await endSession(db, session.id, now, lapse);
    return null;
  }
  if (now - session.last_seen_at >= TOUCH_EVERY_MS) {
    await touchSession(db, session.id, now);
    session.last_seen_at = now;
  }
  const user: UsersTable = {
    id: session.user_id,
    login_id: row.u_login_id,
    login_key: row.u_login_key,
    login_digest: row.u_login_digest,
    full_name: row.u_full_name,
    partner_number: row.u_partner_number,
    role: row.u_role,
    password_hash: row.u_password_hash,
    otp_email: row.u_otp_email,
    otp_email_confirmed_at: row.u_otp_email_confirmed_at,
    strong_factor_at: row.u_strong_factor_at,
    pending_email: row.u_pending_email,
    last_sign_in_at: row.u_last_sign_in_at,
    created_at: row.u_created_at,
    updated_at: row.u_updated_at,
    disabled_at: u_disabled_at,
    password_temporary_until: row.u_password_temporary_until,
    locale: row.u_locale ?? null,
    time_zone: row.u_time_zone ?? null,
  };
  return flow === undefined ? { session, user } : { session, user, flow };
}

/** Why a session is not live at a moment: ended on the server, its user disabled, past its absolute or its idle limit. */
export type SessionLapse = "ended" | "disabled" | "expired" | "idle";

/**
 * The one rule of whether a session is live at `now` (loadSignedIn for each request, and the recheck
 * of proxied WebSockets, session/lapsed-sessions.ts), or why not: ended, its user disabled (a disabled
 * account's sessions end at its next request, whatever ended them before: issue 11), past
 * FAMOS_SESSION_MAX (ASVS 3.3.1) or idle for FAMOS_SESSION_IDLE (ASVS 3.3.2). It only reads: ending
 * a lapsed session in storage is the caller's choice.
 */
export function sessionLapse(
  session: Pick<Session, "ended_at" | "expires_at" | "last_seen_at">,
  userDisabledAt: number | null,
  now: number,
  policy: Config["session"],
): SessionLapse | null {
  if (session.ended_at !== null) return "ended";
  if (userDisabledAt !== null) return "disabled";
  if (now >= session.expires_at) return "expired";
  if (now - session.last_seen_at >= policy.idleMs) return "idle";
  return null;
}

// Every request of a signed-in browser asks this: built and compiled once (preparedQuery).
const sessionWithUser = preparedQuery((db, hash: string) =>
  db.selectFrom("sessions").innerJoin("users", "users.id", "sessions.user_id").selectAll("sessions").select(USER_COLUMNS).where("sessions.token_hash", "=", hash),
);

/** The same, with the session's flow beside it (loadSignedIn's `withFlow`): a left join by the flow's key. */
const sessionWithUserAndFlow = preparedQuery((db, hash: string) =>
  db
    .selectFrom("sessions")
    .innerJoin("users", "users.id", "sessions.user_id")
    .leftJoin("flows", "flows.id", "sessions.flow_id")
    .selectAll("sessions")
    .select(USER_COLUMNS)
    .select(FLOW_COLUMNS)
    .where("sessions.token_hash", "=", hash),
);

// The flow's columns under names that can't clash with the session's own.
const FLOW_COLUMNS = [
  "flows.id as f_id",
  "flows.user_id as f_user_id",
  "flows.kind as f_kind",
  "flows.email as f_email",
  "flows.created_at as f_created_at",
  "flows.codes_sent as f_codes_sent",
  "flows.last_code_at as f_last_code_at",
  "flows.finished_at as f_finished_at",
  "flows.return_to as f_return_to",
] as const;
type FlowColumns = { [K in keyof FlowsTable as `f_${K}`]: FlowsTable[K] | null };

const touchSession = preparedQuery((db, id: string, now: number) => db.updateTable("sessions").set({ last_seen_at: now }).where("id", "=", id));

// Users' columns under names that can't clash with the session's own. All but the import's two
// (sync_disabled_partner, imported_hash_digest: optional in UsersTable): no request reads them, and a
// digest of the password hash has no place in every request's user object.
const USER_COLUMNS = [
  "users.login_id as u_login_id",
  "users.login_key as u_login_key",
    "users.login_digest as u_login_digest",
  "users.full_name as u_full_name",
  "users.partner_number as u_partner_number",
  "users.role as u_role",
  "users.password_hash as u_password_hash",
  "users.otp_email as u_otp_email",
  "users.otp_email_confirmed_at as u_otp_email_confirmed_at",
  "users.strong_factor_at as u_strong_factor_at",
  "users.pending_email as u_pending_email",
  "users.last_sign_in_at as u_last_sign_in_at",
  "users.created_at as u_created_at",
  "users.updated_at as u_updated_at",
  "users.disabled_at as u_disabled_at",
  "users.password_temporary_until as u_password_temporary_until",
  "users.locale as u_locale",
  "users.time_zone as u_time_zone",
] as const;

/** Ends one live session; whether it was still live. */
export async function endSession(db: Kysely<Database>, sessionId: string, now: number, reason: string): Promise<boolean> {
  return (await endLiveSession(db, now, reason, sessionId)).length === 1;
}

/**
 * Cancel's end of a half-signed-in session ("User profile", OTP capture), inside the caller's transaction
 * after the user's row (the order a confirmation takes them; the session's row taken on PostgreSQL):
 * "moved" only when another request of it completed the sign-in first — a Confirm answered before this
 * Cancel, which confirmed a second factor in it (verified_at) and gave it its next token: that sign-in
 * stands. Any other step it moved on to meanwhile (the address page's own submit, which sent a code and
 * moved it to OTP capture with a new token, nobody signed in) is ended by its id, as Cancel always did.
 * `flowId`: the session's flow as it is now (a code sent since the Cancel read it stops with it).
 */
export async function endHalfSignedIn(
  tx: Kysely<Database>,
  dialect: Dialect,
  session: Pick<Session, "id" | "token_hash">,
  now: number,
  reason: string,
): Promise<{ kind: "ended"; flowId: string | null } | { kind: "moved" } | { kind: "signed-out" }> {
  let query = tx.selectFrom("sessions").select(["token_hash", "verified_at", "flow_id"]).where("id", "=", session.id).where("ended_at", "is", null);
  if (dialect === "postgres") query = query.forNoKeyUpdate();
  const current = await query.executeTakeFirst();
  if (!current) return { kind: "signed-out" };
  if (current.token_hash !== session.token_hash && current.verified_at !== null) return { kind: "moved" };
  if (!(await endSession(tx, session.id, now, reason))) return { kind: "signed-out" };
  return { kind: "ended", flowId: current.flow_id };
}

// Issue 17: every logout (and cancel, lapse, replaced session) runs it; built and compiled once.
// RETURNING says whether the session was still live: a prepared query gives its rows only.
const endLiveSession = preparedQuery((db, now: number, reason: string, sessionId: string) =>
  db.updateTable("sessions").set({ ended_at: now, end_reason: reason }).where("id", "=", sessionId).where("ended_at", "is", null).returning("id"),
);

/**
 * Whether the session is still live, read inside the caller's transaction with its row taken on
 * PostgreSQL (the caller takes the user's row first: the one order of locks, store/take-turns.ts).
 * For a change that spent a slow step after its session was loaded (a WebAuthn verification, an
 * argon2id hash) and does not move the session on: a session ended meanwhile, by its user from
 * another browser or by support, has no more say (ASVS 3.3.1), and the change writes nothing.
 */
export async function sessionStillLive(tx: Kysely<Database>, dialect: Dialect, sessionId: string): Promise<boolean> {
  let query = tx.selectFrom("sessions").select("id").where("id", "=", sessionId).where("ended_at", "is", null);
  if (dialect === "postgres") query = query.forNoKeyUpdate();
  return (await query.executeTakeFirst()) !== undefined;
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

/** What the Profile tab's list shows of a session. */
export type ListedSession = Pick<Session, "id" | "created_at" | "last_seen_at" | "ip" | "user_agent">;

/** How many sessions the Profile tab lists; "End all other sessions" reaches the rest. */
export const LISTED_SESSIONS = 50;

/**
 * Live, fully signed-in sessions of a user, newest first (the Profile tab's list): at most
 * LISTED_SESSIONS, and whether there are more.
 */
export async function listUserSessions(db: Kysely<Database>, userId: string, now: number, policy: Config["session"]): Promise<{ sessions: ListedSession[]; more: boolean }> {
  const rows = await liveFullSessions(db, userId, now, now - policy.idleMs);
  return { sessions: rows.slice(0, LISTED_SESSIONS), more: rows.length > LISTED_SESSIONS };
}

// Issue 17: every Profile page asks it; built and compiled once. Only the columns the list shows:
// a user may have up to 50 rows, and each column read is a string made per row. One row past the
// list says whether there are more.
const liveFullSessions = preparedQuery((db, userId: string, now: number, seenSince: number) =>
  db
    .selectFrom("sessions")
    .select(["id", "created_at", "last_seen_at", "ip", "user_agent"])
    .where("user_id", "=", userId)
    .where("ended_at", "is", null)
    .where("stage", "=", "full")
    .where("expires_at", ">", now)
    .where("last_seen_at", ">", seenSince)
    .orderBy("created_at", "desc")
    .limit(LISTED_SESSIONS + 1),
);
