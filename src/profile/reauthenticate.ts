import type { Deps } from "../app/deps.ts";
import { durationInWords } from "../config/duration.ts";
import { checkPassword, type PasswordPurpose } from "../factors/check-password.ts";
import type { PauseScope } from "../regulation/throttle.ts";
import { type Session } from "../session/sessions.ts";
import { markSteppedUp } from "../session/session-steps.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { User } from "../users/users.ts";

/**
 * How recent a confirmed code must be for a sensitive change without the password again (SPEC item
 * 6: "a code confirmed in the last 15 minutes"; ASVS 3.7.1 asks for re-authentication before
 * account modifications). Pages say it in words from here.
 */
export const RECENT_CODE_MS = 15 * 60_000;
export const RECENT_CODE_WORDS = durationInWords(RECENT_CODE_MS);

/**
 * The same rule's window for the support console's actions on other accounts' access (an OTP email
 * reset, a temporary password, roles…): an hour, as GitHub's "sudo mode" keeps its for two. Staff who
 * answer calls all day would type the password every quarter of an hour under RECENT_CODE_MS; a cookie
 * stolen later than an hour after its sign-in (sessions live FAMOS_SESSION_MAX, 12 h) acts no more
 * without the password (ASVS 3.7.1).
 */
export const CONSOLE_RECENT_CODE_MS = 60 * 60_000;

/** A second factor confirmed in this session less than `withinMs` ago (Profile's RECENT_CODE_MS unless said). */
export function codeConfirmedRecently(session: Session, now: number, withinMs: number = RECENT_CODE_MS): boolean {
  return session.verified_at !== null && now - session.verified_at < withinMs;
}

/**
 * Which proofs keep a session fresh for a change, and for how long. Profile's: a code within
 * RECENT_CODE_MS, else the password for that one change (a user changes their own factors rarely).
 * The console's: a code, or its own step-up password (sessions.stepped_up_at), within
 * CONSOLE_RECENT_CODE_MS: support staff change others' access all day, and typing the password before
 * every change past the hour would teach them to type it without a thought (GitHub's sudo mode keeps
 * its password for its window too). The window is the session token's: advanceSession clears it.
 */
export interface Freshness {
  withinMs: number;
  /** A right password opens a window of its own (recorded on the session), as a code does. */
  remembersPassword: boolean;
}
export const PROFILE_FRESHNESS: Freshness = { withinMs: RECENT_CODE_MS, remembersPassword: false };
export const CONSOLE_FRESHNESS: Freshness = { withinMs: CONSOLE_RECENT_CODE_MS, remembersPassword: true };

/** The session proved itself recently enough for `freshness`: by a code, or (where remembered) by a password. */
export function provenRecently(session: Session, now: number, freshness: Freshness): boolean {
  if (codeConfirmedRecently(session, now, freshness.withinMs)) return true;
  return freshness.remembersPassword && session.stepped_up_at !== null && now - session.stepped_up_at < freshness.withinMs;
}

export type PasswordProof =
  | { kind: "ok" }
  | { kind: "wrong" }
  /** A pause applies: refused until `until` (null: until support unlocks). */
  | { kind: "locked"; scope: PauseScope; until: number | null };

/**
 * The password typed again on Profile: the password factor of the sign-in (checkPassword), counted
 * toward the same locks (NIST SP 800-63B 5.2.2), for the signed-in user's own login ID.
 */
export async function provePassword(deps: Deps, user: User, password: string, ctx: RequestContext, purpose: Exclude<PasswordPurpose, "signin">): Promise<PasswordProof> {
  const check = await checkPassword(deps, { loginId: user.login_id, password, purpose, user }, ctx);
  if (check.kind === "paused") return { kind: "locked", ...check.pause };
  // A wrong password that starts a pause is still a wrong password here; the next try is told the pause.
  return check.kind === "ok" ? { kind: "ok" } : { kind: "wrong" };
}

/** `by: "password"`: the password was typed again (and right); without it, a recent code sufficed. */
export type FreshProof = { kind: "ok"; by?: "password" } | { kind: "password-needed" } | { kind: "password-wrong" } | Extract<PasswordProof, { kind: "locked" }>;

/**
 * A sensitive change on Profile (ASVS 3.7.1) — the OTP email, a passkey, the authenticator app,
 * recovery codes: a second factor confirmed in this session in the last 15 minutes, else the
 * password typed again — counted as every password is. One home for every such change, the
 * console's step-up too (support/step-up.ts, CONSOLE_FRESHNESS: its right password is remembered).
 */
export async function requireFreshProof(
  deps: Deps,
  user: User,
  session: Session,
  password: string | null,
  ctx: RequestContext,
  purpose: Exclude<PasswordPurpose, "signin">,
  freshness: Freshness = PROFILE_FRESHNESS,
): Promise<FreshProof> {
  if (provenRecently(session, deps.clock.now(), freshness)) return { kind: "ok" };
  if (!password) return { kind: "password-needed" };
  const proof = await provePassword(deps, user, password, ctx, purpose);
  if (proof.kind !== "ok") return proof.kind === "wrong" ? { kind: "password-wrong" } : proof;
  if (freshness.remembersPassword) await markSteppedUp(deps.db, session, deps.clock.now());
  return { kind: "ok", by: "password" };
}
