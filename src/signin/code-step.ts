import { stageAfterSignIn } from "../account/temporary-password.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { checkCode, type CodeCheck, type OnConfirmed } from "../factors/check-code.ts";
import { sendCode } from "../factors/send-code.ts";
import { RollBack, rolledBackAs, type Moved, type SignedOut } from "../session/live-session.ts";
import { voidFlowCodes, type IssueOutcome } from "../otp/codes.ts";
import { flowTakesCodes, sessionFlow, type Flow } from "../otp/flows.ts";
import { rememberDevice } from "../regulation/devices.ts";
import { endHalfSignedIn, endSession, sessionStillLive, type Session } from "../session/sessions.ts";
import { advanceSession } from "../session/session-steps.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { loginKey, recordSignIn, type User } from "../users/users.ts";
import { confirmEnrolment } from "../enrolment/enrol.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { addressToEnrol, emailCodeSignsIn, stageOnceVerified } from "../strong-factors/policy.ts";

/** `deviceToken`: the device cookie this browser now holds for the login ID (OWASP device cookies). */
export type SignedInOutcome = { kind: "signed-in"; token: string; session: Session; returnTo: string | null; flowKind: Flow["kind"]; deviceToken: string };

export type ConfirmOutcome =
  | SignedInOutcome
  | Exclude<CodeCheck<never>, { kind: "ok" }>
  /** The session ended since the request loaded it (Cancel in another tab): nothing counted, to sign in. */
  | SignedOut
  /** A user of FAMOS_STRONG_FACTOR_ROLES with a passkey or an app: the emailed code no longer signs in (issue 13). */
  | { kind: "strong-factor-required" };

export interface SignedIn {
  token: string;
  session: Session;
  deviceToken: string;
}

/**
 * What completes a sign-in once a second factor is confirmed, whichever it was (the emailed code, a
 * passkey, an authenticator app or a recovery code): one home, inside the confirming transaction.
 * Enrolment confirms the address; the session is rotated to its next stage; the browser is remembered.
 */
export function finishSignIn(deps: Deps, user: User, session: Session, flow: Flow, ctx: RequestContext): OnConfirmed<SignedIn> {
  return async (tx, now, deviceId) => {
    // An enrolment confirms only while the account has no confirmed address (confirmEnrolment); null rolls back.
    if (flow.kind === "enrol" && !(await confirmEnrolment(tx, user.id, session.id, flow.email, now))) return null;
    await recordSignIn(tx, user.id, now);
    if (flow.kind === "enrol") {
      await recordAudit(tx, now, { event: "enrolment.confirmed", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
    }
    // A temporary password brings "Choose a new password" before anything else (issue 11).
    // Then, for FAMOS_STRONG_FACTOR_ROLES without a passkey or an app, their setup (issue 13).
    // A user without an OTP email who proved another factor enrols one next (addressToEnrol); a temporary
    // password is used up by that enrolment's code, as for anyone who meets "User profile" first.
    const stage = addressToEnrol(deps.config, user, flow.kind) ? "enrol" : await stageOnceVerified(tx, deps.config, user, await stageAfterSignIn(tx, user, now, ctx, session));
    const advanced = await advanceSession(tx, deps.random, session, now, { stage, flowId: null, verifiedAt: now, policy: deps.config.session });
    if (!advanced) return null;
    return { ...advanced, deviceToken: await rememberDevice(deps, tx, loginKey(user.login_id), deviceId, now) };
  };
}

/**
 * Screen 4, "Confirm": the code factor (checkCode); a confirmed code signs in and remembers the browser.
 * `loaded`: the session's flow as this request read it with the session (web/auth.ts, `flow: true`;
 * null: none), so it is not read again (issue 17); without it, read here. Before the reservation either way.
 */
export async function confirmCode(deps: Deps, user: User, session: Session, typed: string, ctx: RequestContext, loaded?: Flow | null): Promise<ConfirmOutcome> {
  const flow = await sessionFlow(deps.db, session.flow_id, loaded);
  if (!flow) return { kind: "void" };
  if (!(await emailCodeSignsIn(deps.db, deps.config, user))) return { kind: "strong-factor-required" };
  // Cancel in another tab of the session, answered after this request loaded it: the session ended and its
  // code was voided with it, so the code typed guesses nothing (checkCode's `voidedSince`), and the browser
  // goes where a form of an ended session goes (answerSignedOut), as Cancel's own answer does.
  let ended = false;
  const sessionEnded = async () => (ended = !(await sessionStillLive(deps.db, deps.dialect, session.id)));
  const check = await checkCode(deps, { user, flow, typed, voidedSince: sessionEnded }, ctx, finishSignIn(deps, user, session, flow, ctx));
  deps.metrics.signIns.inc({ outcome: `code-${ended ? "signed-out" : check.kind}` });
  if (ended) return { kind: "signed-out" };
  if (check.kind !== "ok") return check;
  return signedInOutcome(check.value, flow);
}

/** What the web layer needs of a finished sign-in, whichever factor finished it. */
export function signedInOutcome({ token, session, deviceToken }: SignedIn, flow: Flow): SignedInOutcome {
  return { kind: "signed-in", token, session, returnTo: flow.return_to, flowKind: flow.kind, deviceToken };
}

/** `no-flow` (an IssueOutcome too): none open, or finished since it was read. */
export type RegenerateOutcome = IssueOutcome | { kind: "strong-factor-required" } | SignedOut;

/**
 * "Regenerate OTP": voids the old code and sends a new one, within the wait and the caps. `loaded`: the
 * session's flow as POST /otp/regenerate read it with the session (`flow: true`), as confirmCode's.
 */
export async function regenerateCode(deps: Deps, user: User, session: Session, ctx: RequestContext, loaded?: Flow | null): Promise<RegenerateOutcome> {
  const flow = await sessionFlow(deps.db, session.flow_id, loaded);
  // A flow without an address (the strong step of a user who has none) has nowhere to send a code to,
  // even if the policy let the emailed code sign in again since: signing in anew leads to enrolment.
  if (!flow || !flowTakesCodes(flow)) return { kind: "no-flow" };
  // Sign-in codes only: the email change's code goes to the new address whatever the user's factors.
  if (flow.kind !== "email-change" && !(await emailCodeSignsIn(deps.db, deps.config, user))) return { kind: "strong-factor-required" };
  // A support reset since the flow was read has ended the session: no code to the address it removed.
  const sent = await sendCode(deps, user, session, ctx, async (_tx, send) => ({ issued: await send(flow, "code.regenerated") }));
  return "value" in sent ? sent.value.issued : sent;
}

/** The session ended by this request (cancelSignIn, signOut). */
export type Ended = { kind: "ended" };

/**
 * "Cancel": voids the code and ends the half-signed-in session; the user is back at sign in.
 * `signed-out`: another request ended it first (endSessionOnce), and this one wrote nothing. `moved`:
 * only when another request of the session completed the sign-in first — a Confirm in another tab, or the
 * other button of a double click — so this Cancel is a no-op and says so: the sign-in stands, with its code
 * used and its session live, rather than a confirmed code on a cancelled flow. Any other step the session
 * moved on to (the address page's own submit sending a code) is ended all the same (endHalfSignedIn).
 */
export function cancelSignIn(deps: Deps, user: User, session: Session, ctx: RequestContext): Promise<Ended | SignedOut | Moved> {
  return endSessionOnce(deps, user, session, ctx, { reason: "cancelled", event: "code.cancelled", voidCodes: true });
}

/** "Sign out": the session ends, audited, in one transaction (a 503 then means it did not end); `signed-out` as cancelSignIn's. */
export async function signOut(deps: Deps, user: User, session: Session, ctx: RequestContext): Promise<Ended | SignedOut> {
  const done = await endSessionOnce(deps, user, session, ctx, { reason: "signout", event: "signout", voidCodes: false });
  // Sign out ends the session whatever its step (endSession, not endHalfSignedIn): it is never "moved".
  return done.kind === "moved" ? { kind: "signed-out" } : done;
}

/**
 * Ends the session for `reason` and audits `event` in one transaction, only if this request is the one
 * that ended it: one that ended it first — the first click of a double click, another tab, on another
 * instance perhaps, support — has its own entry in the trail, and this one rolls back whole and answers
 * "signed-out" (RollBack, as cancelEmailChange's "moved"); the browser goes to the sign-in page either
 * way. Before, each ignored endSession's answer and wrote a second entry for one session. `voidCodes`:
 * the session's flow's codes stop working with it, the user's row taken first (the one order of locks,
 * store/take-turns.ts, as a confirmation takes them).
 */
async function endSessionOnce(
  deps: Deps,
  user: User,
  session: Session,
  ctx: RequestContext,
  end: { reason: string; event: "code.cancelled" | "signout"; voidCodes: boolean },
): Promise<Ended | SignedOut | Moved> {
  const now = deps.clock.now();
  return rolledBackAs(
    deps.db.transaction().execute(async (tx) => {
      if (end.voidCodes) await takeTurnsOn(tx, deps.dialect, { table: "users", id: user.id });
      // Cancel ends the half-signed-in session, taken after the user's row as a confirmation is, unless a
      // Confirm completed the sign-in meanwhile (endHalfSignedIn). Sign out ends the session whatever its step.
      if (end.voidCodes) {
        const ended = await endHalfSignedIn(tx, deps.dialect, session, now, end.reason);
        if (ended.kind !== "ended") throw new RollBack(ended.kind);
        for (const flowId of new Set([session.flow_id, ended.flowId])) if (flowId) await voidFlowCodes(tx, flowId, end.reason, now);
      } else if (!(await endSession(tx, session.id, now, end.reason))) throw new RollBack("signed-out");
      await recordAudit(tx, now, { event: end.event, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
      return { kind: "ended" as const };
    }),
    ["signed-out", "moved"] as const,
  );
}
