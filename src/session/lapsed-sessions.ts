import type { Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import { KEYS_PER_IN_LIST, slicesOf } from "../store/in-lists.ts";
import type { Database, SessionsTable, UsersTable } from "../store/schema.ts";
import { sessionLapse, type SessionLapse } from "./sessions.ts";

/** Why a session no longer carries a full sign-in: a lapse, a session not (or no longer) at the full step, or one gone from storage. */
export type FullSessionLapse = SessionLapse | "not-full" | "gone";

/** What `outlived` is shown of each session and its user. */
export type LapseRow = Pick<SessionsTable, "id" | "stage" | "verified_at"> &
  Pick<UsersTable, "login_id" | "full_name" | "partner_number" | "role" | "otp_email" | "otp_email_confirmed_at" | "strong_factor_at">;

/**
 * Of these session ids, those that no longer carry a full sign-in of an active user at `now`, each
 * with why (its end reason as stored when it was ended on the server). Read in one query per
 * KEYS_PER_IN_LIST ids (store/in-lists.ts; one statement still covers a busy instance's open sockets),
 * session and user joined, without touching last_seen_at: what asks (a proxied WebSocket) must not
 * keep the session alive. The rule of "live" is loadSignedIn's (sessionLapse).
 *
 * `outlived`: the rules of a higher layer, each session's end reason or null: one that ends sessions at
 * their next request (a password-only session whose account must now use two factors:
 * rollout/password-only.ts), or one of the asker's own (a channel opened under another identity).
 */
export async function lapsedFullSessions(
  db: Kysely<Database>,
  ids: readonly string[],
  now: number,
  policy: Config["session"],
  outlived?: (row: LapseRow) => string | null,
): Promise<Map<string, string>> {
  const lapsed = new Map<string, string>();
  for (const chunk of slicesOf(ids, KEYS_PER_IN_LIST)) {
    const rows = await db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .select(["sessions.id", "sessions.stage", "sessions.ended_at", "sessions.end_reason", "sessions.expires_at", "sessions.last_seen_at", "sessions.verified_at"])
      .select(["users.disabled_at", "users.login_id", "users.full_name", "users.partner_number", "users.role", "users.otp_email", "users.otp_email_confirmed_at", "users.strong_factor_at"])
      .where("sessions.id", "in", chunk)
      .execute();
    const found = new Set<string>();
    for (const row of rows) {
      found.add(row.id);
      const lapse: FullSessionLapse | null = sessionLapse(row, row.disabled_at, now, policy) ?? (row.stage === "full" ? null : "not-full");
      if (lapse !== null) lapsed.set(row.id, lapse === "ended" ? (row.end_reason ?? "ended") : lapse);
      else {
        const reason = outlived?.(row) ?? null;
        if (reason !== null) lapsed.set(row.id, reason);
      }
    }
    // Deleted (an erased user, the retention cleanup): no session at all.
    for (const id of chunk) if (!found.has(id)) lapsed.set(id, "gone" satisfies FullSessionLapse);
  }
  return lapsed;
}
