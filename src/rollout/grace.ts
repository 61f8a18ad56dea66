import { sql } from "kysely";
import { spentBeforeWave } from "../account/access.ts";
import { stageAfterSignIn } from "../account/temporary-password.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { inLiveSession, NotMoved, RollBack, rolledBackAs, type SignedOut } from "../session/live-session.ts";
import { type Session } from "../session/sessions.ts";
import { advanceSession } from "../session/session-steps.ts";
import { findUserById, recordSignIn, type User } from "../users/users.ts";
import { alwaysTwoFactor } from "./applies.ts";

/** Where the request came from (the sign-in steps' request context), for the audit trail. */
type Origin = { ip: string; userAgent: string };

/** "Later" on "User profile": how many are left of FAMOS_2FA_GRACE_SIGNINS, e.g. "2 of 3 left". */
export interface GraceOffer {
  left: number;
  of: number;
}

/**
 * Whether "Later" is never offered to this user: alwaysTwoFactor's accounts, and one signed in with a
 * temporary password spent before the wave, which signs in again from the start only with the second
 * factor (SECURITY.md 18): "Later" would open the portal with it, the password alone, a second time.
 */
function noLater(config: Deps["config"], user: User): boolean {
  return alwaysTwoFactor(config, user) || spentBeforeWave(user);
}

/** The offer shown on "User profile", or null when there is none (setting 0, or all used). */
export async function graceOffer(deps: Deps, user: User): Promise<GraceOffer | null> {
  const of = deps.config.rollout.graceSignIns;
  if (of === 0 || noLater(deps.config, user)) return null;
  const row = await deps.db.selectFrom("rollout_users").select("grace_used").where("user_id", "=", user.id).executeTakeFirst();
  const left = of - Number(row?.grace_used ?? 0);
  return left > 0 ? { left, of } : null;
}

/**
 * `moved`: another click of this session (a double click) moved it on first; nothing counted, and the
 * browser follows the session ("/"). Before, it answered "none-left" (409 "There are no more 'Later'
 * choices") beside an offer still saying "2 of 3 left" (red team 2026-12-07).
 */
export type GraceOutcome = { kind: "deferred"; token: string; session: Session; left: number } | { kind: "none-left" } | { kind: "moved" } | SignedOut;

/**
 * Uses one "Later": counted and checked in the one statement that changes the count, so parallel
 * clicks cannot use more than were granted (rule 12). The session then opens the portal with the
 * password alone, like a sign-in before the user's wave ("Choose a new password" first after a
 * temporary password). Only while the session is live (inLiveSession: the user's row, then the
 * session's), and the count is kept only with the session moved on: a click whose session ended
 * meanwhile (the owner confirmed her address in another tab, support reset or disabled the account)
 * answers "signed-out", and one that lost to another click of the same session "moved" (asked first,
 * so also when the winner used the last "Later"), neither using up a "Later" (red team 2026-12-07:
 * the count was committed before the session was found ended). Whether "Later" applies (noLater) is
 * decided on the account as read in that transaction, after its row is taken; the request's copy only
 * spares the transaction when it already says no.
 */
export async function useGrace(deps: Deps, user: User, session: Session, ctx: Origin): Promise<GraceOutcome> {
  const limit = deps.config.rollout.graceSignIns;
  if (limit === 0 || noLater(deps.config, user)) return { kind: "none-left" };
  const now = deps.clock.now();
  // Rolled back whole, the session's move and the count alike: the session was not moved, or no "Later" was left.
  const done = await rolledBackAs(
    inLiveSession(deps, user, session, async (tx) => {
      // Decided again on the account as it is now, its row taken: a support role given, or a passkey or
      // app set up in another browser, since the request read it must not open the portal with the password alone.
      const current = await findUserById(tx, user.id);
      if (!current || noLater(deps.config, current)) return { kind: "none-left" } as const;
      // A temporary password is used up here too, and "Choose a new password" comes first (stageAfterSignIn).
      const advanced = await advanceSession(tx, deps.random, session, now, { stage: await stageAfterSignIn(tx, current, now, ctx, session), flowId: null });
      if (!advanced) throw new NotMoved();
      const counted = await tx
        .insertInto("rollout_users")
        .values({ user_id: user.id, contact_email: null, grace_used: 1, announced_at: null })
        .onConflict((oc) =>
          oc
            .column("user_id")
            .doUpdateSet({ grace_used: sql`rollout_users.grace_used + 1` })
            .where("rollout_users.grace_used", "<", limit),
        )
        .returning("grace_used")
        .executeTakeFirst();
      if (!counted) throw new RollBack("none-left");
      await recordSignIn(tx, user.id, now);
      const left = limit - Number(counted.grace_used);
      await recordAudit(tx, now, { event: "enrolment.deferred", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { left } });
      return { kind: "deferred", token: advanced.token, session: advanced.session, left } as const;
    }),
    ["moved", "none-left"] as const,
  );
  return "value" in done ? done.value : done;
}
