import type { Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import type { Database } from "../store/schema.ts";
import { sessionLapse, type SessionLapse } from "./sessions.ts";

/** Why a session no longer carries a full sign-in: a lapse, a session not (or no longer) at the full step, or one gone from storage. */
export type FullSessionLapse = SessionLapse | "not-full" | "gone";

/**
 * Ids per statement: SQLite takes at most 32,766 bound values and PostgreSQL 65,535; a few hundred
 * keep each statement small while one statement still covers a busy instance's open sockets.
 */
const IDS_PER_QUERY = 500;

/**
 * Of these session ids, those that no longer carry a full sign-in of an active user at `now`, each
 * with why (its end reason as stored when it was ended on the server). Read in one query per
 * IDS_PER_QUERY ids, session and user joined, without touching last_seen_at: what asks (a proxied
 * WebSocket) must not keep the session alive. The rule of "live" is loadSignedIn's (sessionLapse).
 */
export async function lapsedFullSessions(db: Kysely<Database>, ids: readonly string[], now: number, policy: Config["session"]): Promise<Map<string, string>> {
  const lapsed = new Map<string, string>();
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
    const chunk = ids.slice(start, start + IDS_PER_QUERY);
    const rows = await db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .select(["sessions.id", "sessions.stage", "sessions.ended_at", "sessions.end_reason", "sessions.expires_at", "sessions.last_seen_at", "users.disabled_at"])
      .where("sessions.id", "in", chunk)
      .execute();
    const found = new Set<string>();
    for (const row of rows) {
      found.add(row.id);
      const lapse: FullSessionLapse | null = sessionLapse(row, row.disabled_at, now, policy) ?? (row.stage === "full" ? null : "not-full");
      if (lapse !== null) lapsed.set(row.id, lapse === "ended" ? (row.end_reason ?? "ended") : lapse);
    }
    // Deleted (an erased user, the retention cleanup): no session at all.
    for (const id of chunk) if (!found.has(id)) lapsed.set(id, "gone" satisfies FullSessionLapse);
  }
  return lapsed;
}
