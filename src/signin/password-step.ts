import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { spentBeforeWave } from "../account/access.ts";
import { checkPassword } from "../factors/check-password.ts";
import { codeQueued, codeSender } from "../factors/send-code.ts";
import type { IssueOutcome } from "../otp/codes.ts";
import { createFlow } from "../otp/flows.ts";
import type { Pause } from "../regulation/throttle.ts";
import { twoFactorDecision } from "../rollout/applies.ts";
import { heldWaveStart } from "../rollout/plan.ts";
import { signInBeforeWave } from "../rollout/password-only.ts";
import { createSession, endSession, type Session } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { saveBrowserLocale } from "../users/locale.ts";
import type { Locale } from "../i18n/locales.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { emailCodeSignsIn } from "../strong-factors/policy.ts";

export type PasswordOutcome =
  /** Unknown login ID, wrong password or a pause: one answer for known and unknown IDs (no enumeration). */
  | { kind: "refused"; pause: Pause | null; wrong: boolean }
  | { kind: "enrol"; token: string; session: Session }
  /** Before the user's 2FA start (issue 12): the password alone opens the portal ("Choose a new password" first after a temporary password: session.stage). */
  | { kind: "portal"; token: string; session: Session }
  /** `issued` says whether the first code went out, or a cap stopped it (OTP capture tells why). */
  | { kind: "code"; token: string; session: Session; issued: IssueOutcome }
  /** FAMOS_STRONG_FACTOR_ROLES with a passkey or an app (issue 13): OTP capture offers those, and no code is sent. */
  | { kind: "strong-factor"; token: string; session: Session };

/** The browser's session before this sign-in, which the new one replaces. */
export interface Replaced {
  sessionId: string;
  loginId: string;
}

/**
 * Screen 1, "Log in": the password factor (checkPassword), then the enrolment or the code step,
 * decided once the password is right and written in the transaction that settles it (issue 17).
 */
export async function passwordStep(
  deps: Deps,
  /** `browserLocale`: the language the browser reads FAMOS in (issue 16), saved for a user who has none once the password is right (null: the browser asks for none). */
  input: { loginId: string; password: string; returnTo?: string | null; replaces?: Replaced | null; browserLocale?: Locale | null },
  ctx: RequestContext,
): Promise<PasswordOutcome> {
  const returnTo = input.returnTo ?? null;
  const replaces = input.replaces ?? null;
  // Issue 16: as at enrolment, the browser's language becomes the user's when none is saved, in the
  // transaction that settles the password: a user whose address was pre-loaded never passes "User
  // profile", and their first code mail and every later one are in it too; one who signs in before
  // their 2FA wave gets the rollout's mails in it.
  const reader = (tx: Kysely<Database>, user: User) => (input.browserLocale ? saveBrowserLocale(tx, user, input.browserLocale) : Promise.resolve(user));
  // A temporary password spent before the wave signs in again once the wave asks for the second factor (SECURITY.md 18).
  const reopens = async (user: User, now: number) => (await twoFactorDecision(deps, user, now)).applies;
  const check = await checkPassword(deps, { loginId: input.loginId, password: input.password, purpose: "signin", reopens }, ctx, async (found, now) => {
    const decision = await twoFactorDecision(deps, found, now);
    if (!decision.applies) {
      // Reopened for the second factor, then the wave moved back meanwhile: refused, as before the start.
      if (spentBeforeWave(found)) return async (): Promise<PasswordOutcome> => ({ kind: "refused", pause: null, wrong: true });
      return async (tx) => {
        const user = await reader(tx, found);
        // Read again, held against a wave change, in the transaction that makes the session (heldWaveStart).
        const startsAt = await heldWaveStart(tx, deps.dialect, user.partner_number, now);
        if (startsAt === null) return startEnrolment(deps, tx, user, replaces, ctx, now);
        // The browser's old session ends here too, as on every other way a sign-in goes on (endReplaced).
        await endReplaced(tx, replaces, ctx, now);
        return signInBeforeWave(deps, tx, user, ctx, now, startsAt);
      };
    }
    if (!(await emailCodeSignsIn(deps.db, deps.config, found))) return async (tx) => startOtpStep(deps, tx, await reader(tx, found), "strong", returnTo, replaces, ctx, now);
    return async (tx) => {
      const user = await reader(tx, found);
      if (user.otp_email) return startOtpStep(deps, tx, user, "code", returnTo, replaces, ctx, now);
      // No OTP email yet but a passkey or an app (strong_factor_at): that first, then "User profile"
      // (finishSignIn). Enrolment straight away let whoever had the password alone give an address of
      // theirs, and its code, in place of the factor the account has.
      return user.strong_factor_at !== null ? startOtpStep(deps, tx, user, "strong", returnTo, replaces, ctx, now) : startEnrolment(deps, tx, user, replaces, ctx, now);
    };
  });
  if (check.kind !== "ok") {
    deps.metrics.signIns.inc({ outcome: check.kind === "paused" ? "password-locked" : "password-refused" });
    return { kind: "refused", pause: check.pause, wrong: check.kind === "wrong" };
  }
  deps.metrics.signIns.inc({ outcome: "password-ok" });
  const outcome = check.value;
  if (outcome.kind === "portal") deps.metrics.signIns.inc({ outcome: "password-only" });
  if (outcome.kind === "code") codeQueued(deps, outcome.issued);
  return outcome;
}

/**
 * A new sign-in replaces the browser's previous session, which ends on the server in the same
 * transaction that makes the new one (ASVS 3.2.1), audited.
 */
async function endReplaced(db: Kysely<Database>, replaces: Replaced | null, ctx: RequestContext, now: number): Promise<void> {
  if (!replaces || !(await endSession(db, replaces.sessionId, now, "replaced"))) return;
  await recordAudit(db, now, { event: "session.ended", actor: replaces.loginId, subject: replaces.loginId, ip: ctx.ip, userAgent: ctx.userAgent, detail: { reason: "replaced" } });
}

async function startEnrolment(deps: Deps, tx: Kysely<Database>, user: User, replaces: Replaced | null, ctx: RequestContext, now: number): Promise<PasswordOutcome> {
  await endReplaced(tx, replaces, ctx, now);
  const { token, session } = await createSession(tx, deps.random, now, deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ip: ctx.ip, userAgent: ctx.userAgent });
  return { kind: "enrol", token, session };
}

/**
 * A session waiting at OTP capture, with its flow (for where to return). "code": a new sign-in attempt
 * whose first code and mail go in the same transaction (codeQueued after the commit). "strong": a user
 * whose emailed code no longer signs in: OTP capture offers the app, a passkey or a recovery code, and
 * no code is sent, and none is accepted (confirmCode and regenerateCode ask the same policy).
 */
async function startOtpStep(
  deps: Deps,
  tx: Kysely<Database>,
  user: User,
  by: "code" | "strong",
  returnTo: string | null,
  replaces: Replaced | null,
  ctx: RequestContext,
  now: number,
): Promise<PasswordOutcome> {
  // checkPassword's transaction, this one, took the user's row before anything else (the one order of
  // locks): the replaced session ends after it, as a support reset ends sessions after the user's row.
  await endReplaced(tx, replaces, ctx, now);
  const flow = await createFlow(tx, deps.random, { userId: user.id, kind: "signin", email: user.otp_email ?? "", now, returnTo });
  // When the hourly cap stopped the first code, the OTP screen says so and when a new one can be had.
  const issued = by === "code" ? await codeSender(deps, tx, user, ctx, now)(flow) : null;
  const { token, session } = await createSession(tx, deps.random, now, deps.config.session, { userId: user.id, stage: "otp", flowId: flow.id, ip: ctx.ip, userAgent: ctx.userAgent });
  return issued ? { kind: "code", token, session, issued } : { kind: "strong-factor", token, session };
}
