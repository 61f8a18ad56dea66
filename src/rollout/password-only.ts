import type { Kysely, SelectQueryBuilder } from "kysely";
import { stageAfterSignIn } from "../account/temporary-password.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { createSession, endSession, type Session } from "../session/sessions.ts";
import type { Database, UsersTable } from "../store/schema.ts";
import { recordSignIn, type User } from "../users/users.ts";
import { alwaysTwoFactor } from "./applies.ts";
import { DEFAULT_WAVE, readPlan, startInPlan, type RolloutPlan } from "./plan.ts";

/** Where the request came from (the sign-in steps' request context), for the audit trail. */
type Origin = { ip: string; userAgent: string };

/**
 * Before the user's wave the password alone opens the portal: a full session that records no
 * verified code (`verified_at` null), so a step that asks for a recent code asks for the password.
 * It ends at the wave's start (or FAMOS_SESSION_MAX, whichever comes first): from then on the password
 * alone opens nothing, and a session opened a moment before must not keep the portal for 12 hours.
 * A code verified in it later (an OTP email confirmed early, from the portal) makes it a two-factor
 * session, which that end no longer concerns (verifiedSessionEnd, session/sessions.ts).
 * A temporary password is used up here until the start (stageAfterSignIn's `beforeWave`: from the start
 * it signs in once more, with the second factor, as this session ends there), and leads to "Choose a new
 * password" first. Written in `tx`, the transaction that settles the password (checkPassword's
 * AfterPassword), which took the account's row first: of two sign-ins at once with the temporary
 * password, the second is checked again against the spent one and refused.
 */
export async function signInBeforeWave(
  deps: Pick<Deps, "random" | "config">,
  tx: Kysely<Database>,
  user: User,
  ctx: Origin,
  now: number,
  /** The start of the user's wave: the session ends there (`endsBy`), as the password alone then opens nothing. */
  waveStartsAt: number,
): Promise<{ kind: "portal"; token: string; session: Session }> {
  const stage = await stageAfterSignIn(tx, user, now, ctx, undefined, true);
  const made = await createSession(tx, deps.random, now, deps.config.session, { userId: user.id, stage, flowId: null, ip: ctx.ip, userAgent: ctx.userAgent, endsBy: waveStartsAt });
  await recordSignIn(tx, user.id, now);
  await recordAudit(tx, now, { event: "signin.before-wave", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
  return { kind: "portal", ...made };
}

/**
 * Whether a session the password alone opened (before the wave or by "Later": no code verified in it)
 * has outlived that permission: its account must now always use two factors (alwaysTwoFactor) — its
 * owner confirmed an OTP email, or set up an authenticator app or a passkey (in this session or another
 * browser), or it was given a support role. Such a session is
 * ended here, at its next request, with the reason "two-factor-required": before, it went on opening the
 * portal on the password alone for up to FAMOS_SESSION_MAX, in the browser of whoever had the password
 * (test/security/password-only-session-attacks.test.ts). The one home of that rule; every request asks it
 * (web/auth.ts), the pure check first, so a session with a verified code costs nothing more.
 */
export function endPasswordOnlyOutlived(
  deps: Pick<Deps, "db" | "config">,
  signedIn: { session: Session; user: Pick<UsersTable, "login_id" | "role" | "otp_email" | "otp_email_confirmed_at" | "strong_factor_at"> },
  now: number,
  /** Asked only when the session ends: the hot path reads no headers for it. */
  origin: () => Origin,
): false | Promise<true> {
  // A plain false, not a promise: the hook awaits nothing for a session the rule leaves alone.
  if (!passwordOnlyOutlived(deps.config, signedIn.session, signedIn.user)) return false;
  // Audited as the request that met it (session.ended, as a replaced session is), once: of two requests
  // at once, only the one whose update ended it writes the line.
  return deps.db.transaction().execute(async (tx): Promise<true> => {
    if (!(await endSession(tx, signedIn.session.id, now, "two-factor-required"))) return true;
    const { login_id } = signedIn.user;
    const { ip, userAgent } = origin();
    const detail = { reason: "two-factor-required", session: signedIn.session.id.slice(0, 8) };
    await recordAudit(tx, now, { event: "session.ended", actor: login_id, subject: login_id, ip, userAgent, detail });
    return true;
  });
}

/** The rule itself, read only: also asked by the proxied WebSockets' recheck (web/websocket-sessions.ts), which ends nothing. */
export function passwordOnlyOutlived(
  config: Deps["config"],
  session: Pick<Session, "stage" | "verified_at">,
  user: Pick<UsersTable, "role" | "otp_email" | "otp_email_confirmed_at" | "strong_factor_at">,
): boolean {
  const passwordOnly = session.verified_at === null && (session.stage === "full" || session.stage === "password");
  return passwordOnly && alwaysTwoFactor(config, user);
}

/**
 * After a wave's start was set, moved or removed: the password-only sessions of the users that wave
 * covers (its partner's staff; for the default start, everyone whose partner has no start of its own)
 * end at the start now in force (at once when it has passed, or when no start is left: no plan means
 * two factors for all). A session opened before the wave ends at its start (signInBeforeWave's
 * `endsBy`); without this, a start brought forward — "start now" after an incident — left the sessions
 * opened under the old one open until it. Which sessions: those made while the password alone still
 * opened the portal: those made before the start in force until this change (`before`, the plan as it
 * was). Each before-wave session ends at or before the start in force (signInBeforeWave's `endsBy`, then
 * each change's cut), so one still live was made before that start; one made after it is a "Later".
 * So a start set a little in the past ("start now" typed at 14:00 read at 14:31), or a partner's start
 * removed when the default start it falls back to has passed, ends the sessions opened in between too
 * (before, they kept their old end, up to FAMOS_SESSION_MAX), and a "Later" made after the old start
 * stays, as it would have: before, a start set or moved ahead within its 12 h (a partner's own start
 * while a past default was in force) cut it there. Known limit: a "Later" made after a start that was
 * then moved ahead is made before the start in force, and a later change cuts it (nothing in the
 * session says "Later"). The number of sessions cut short.
 */
export async function endPasswordOnlyBeforeStart(db: Kysely<Database>, partnerNumber: string | null, now: number, before: RolloutPlan): Promise<number> {
  const plan = await readPlan(db);
  const startIn = (p: RolloutPlan) => (partnerNumber === null ? p.defaultStart : startInPlan(p, partnerNumber));
  const ends = startIn(plan) ?? now;
  // Made before the start in force until this change: no live password-only session made after it is a
  // before-wave one (that session's end is at or before this start), they are all "Later"s, which a
  // start does not concern. Without one (no plan: two factors for all), only "Later"s are left.
  const madeBefore = startIn(before);
  if (madeBefore === null) return 0;
  const covered = db
    .selectFrom("users")
    .select("users.id")
    .$if(partnerNumber !== null, (q) => q.where("users.partner_number", "=", partnerNumber!))
    .$if(partnerNumber === null, (q) =>
      q.where("users.partner_number", "not in", db.selectFrom("rollout_plan").select("rollout_plan.partner_number").where("rollout_plan.partner_number", "<>", DEFAULT_WAVE)),
    );
  return cutPasswordOnly(db, covered, ends, madeBefore);
}

/**
 * After a user's partner number changed (`famos user import --update`, the one path that writes it), in
 * the transaction that changed it, the waves held first (holdWaves, as a wave change does): the user's
 * password-only sessions end at the start of the wave that now applies to them (at once when it has
 * passed, or when there is no plan), as a wave change ends its users' (endPasswordOnlyBeforeStart, the
 * same cut). Which sessions: those made before the start of the wave that applied until the move (the
 * old partner's: before-wave sessions); a "Later" made after it stays. Before, the session kept the old
 * partner's start as its end, up to FAMOS_SESSION_MAX. A move never lengthens a session. The number cut short.
 */
export async function endPasswordOnlyForMove(db: Kysely<Database>, userId: string, from: string, to: string, now: number): Promise<number> {
  const plan = await readPlan(db);
  const madeBefore = startInPlan(plan, from);
  if (madeBefore === null) return 0;
  return cutPasswordOnly(db, [userId], startInPlan(plan, to) ?? now, madeBefore);
}

/** The cut itself (its one home): the live password-only sessions of `users` made before `madeBefore` end by `ends`. */
async function cutPasswordOnly(db: Kysely<Database>, users: SelectQueryBuilder<Database, "users", { id: string }> | readonly string[], ends: number, madeBefore: number): Promise<number> {
  const result = await db
    .updateTable("sessions")
    .set({ expires_at: ends })
    .where("ended_at", "is", null)
    .where("verified_at", "is", null)
    .where("stage", "in", ["full", "password"])
    .where("expires_at", ">", ends)
    .where("created_at", "<", madeBefore)
    .where("user_id", "in", users)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
