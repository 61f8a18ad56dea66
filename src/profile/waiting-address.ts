import type { Deps } from "../app/deps.ts";
import { codeLapse } from "../otp/codes.ts";
import { sessionLapse } from "../session/sessions.ts";
import type { User } from "../users/users.ts";

/**
 * The address waiting for its code, or null: the one home of "is an address pending" for everything
 * that reports it (the console's user page and its reset confirmation, `famos user show`).
 *
 * Without a confirmed address it is the enrolment's, as stored (the rollout's "pending" state): it
 * stays when its session ends, and the next sign-in asks again (SPEC item 2).
 *
 * With one, it is a Profile email change's new address, and only while that change can still be
 * confirmed as it stands: its flow open, the session that started it live (sessionLapse: not signed
 * out, ended, idle or past FAMOS_SESSION_MAX) and its current code live (codeLapse: not expired, void
 * or used). A change ends in many ways that write nothing (a session lapses, a code runs out, nobody
 * comes back), so users.pending_email cannot say it: it is not read for a change. The newest change
 * wins when two sessions have one each; its address is the flow's, the one its code confirms.
 */
export async function waitingAddress(deps: Pick<Deps, "db" | "clock" | "config">, user: User): Promise<string | null> {
  if (user.otp_email === null) return user.pending_email;
  const now = deps.clock.now();
  const changes = await deps.db
    .selectFrom("flows")
    .innerJoin("sessions", (join) => join.onRef("sessions.flow_id", "=", "flows.id").onRef("sessions.user_id", "=", "flows.user_id"))
    .innerJoin("codes", "codes.flow_id", "flows.id")
    .select(["flows.email", "sessions.ended_at", "sessions.expires_at", "sessions.last_seen_at", "codes.expires_at as code_expires_at", "codes.voided_at", "codes.void_reason"])
    .where("flows.user_id", "=", user.id)
    .where("flows.kind", "=", "email-change")
    .where("flows.finished_at", "is", null)
    .where("sessions.ended_at", "is", null)
    .where("codes.consumed_at", "is", null)
    .where("codes.voided_at", "is", null)
    .orderBy("flows.created_at", "desc")
    .execute();
  const live = changes.find(
    (c) => sessionLapse(c, user.disabled_at, now, deps.config.session) === null && codeLapse({ expires_at: c.code_expires_at, voided_at: c.voided_at, void_reason: c.void_reason }, now) === null,
  );
  return live?.email ?? null;
}
