import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import { issueCode, verifyCode, voidFlowCodes, type IssueOutcome, type VerifyOutcome } from "../otp/codes.ts";
import { normaliseTypedCode } from "../otp/code.ts";
import { findFlow, finishFlow, type Flow } from "../otp/flows.ts";
import { tellLockStarted } from "../regulation/lock-notice.ts";
import { lockState, recordFailure, recordSuccess } from "../regulation/throttle.ts";
import { advanceSession, endSession, type Session } from "../session/sessions.ts";
import { confirmOtpEmail, loginKey, recordSignIn, type User } from "../users/users.ts";
import type { RequestContext } from "./context.ts";
import { stageAfterCode } from "../account/temporary-password.ts";

export type ConfirmOutcome =
  | { kind: "signed-in"; token: string; session: Session; returnTo: string | null; flowKind: Flow["kind"] }
  | { kind: "malformed" }
  /** Too many wrong codes for this login ID: refused until `until` (null: until support unlocks). */
  | { kind: "locked"; until: number | null }
  | Exclude<VerifyOutcome, { kind: "ok" }>;

/**
 * Screen 4, "Confirm". Wrong codes count per code (tries) and per login ID and address (locks);
 * neither Regenerate nor a new sign-in resets the latter, a confirmed code does (NIST SP 800-63B 5.2.2).
 */
export async function confirmCode(deps: Deps, user: User, session: Session, typed: string, ctx: RequestContext): Promise<ConfirmOutcome> {
  const now = deps.clock.now();
  const subject = { loginKey: loginKey(user.login_id), ip: ctx.ip };
  const audit = (entry: Pick<AuditEntry, "event" | "detail">, db = deps.db) =>
    recordAudit(db, now, { ...entry, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });

  const code = normaliseTypedCode(typed);
  if (code === null || session.flow_id === null) return { kind: "malformed" };
  const lock = await lockState(deps.db, subject, now);
  if (lock.locked) return { kind: "locked", until: lock.until };

  const outcome = await verifyCode(deps, session.flow_id, code, now);
  if (outcome.kind === "used") {
    // The right code arriving twice (a double click, or the losers of a race with it) guesses
    // nothing: it is refused without counting, so the winner is not locked out by its own twin.
    deps.metrics.signIns.inc({ outcome: "code-used" });
    return outcome;
  }
  if (outcome.kind !== "ok") {
    // Every wrong, expired or void code counts toward the lock (NIST SP 800-63B 5.2.2).
    const failure = await recordFailure(deps.db, "code", subject, now, deps.config.lock);
    await audit({ event: outcome.kind === "expired" ? "code.expired" : "code.failed", detail: { result: outcome.kind } });
    await tellLockStarted(deps, user, "code", failure, now);
    deps.metrics.codesFailed.inc();
    deps.metrics.signIns.inc({ outcome: `code-${outcome.kind}` });
    return outcome;
  }

  const flow = await findFlow(deps.db, session.flow_id);
  if (!flow) return { kind: "void" };
  const advanced = await deps.db.transaction().execute(async (tx) => {
    if (flow.kind === "enrol") await confirmOtpEmail(tx, user.id, flow.email, now);
    await finishFlow(tx, flow.id, now);
    await recordSignIn(tx, user.id, now);
    await audit({ event: "code.confirmed", detail: { purpose: flow.kind } }, tx);
    if (flow.kind === "enrol") await audit({ event: "enrolment.confirmed" }, tx);
    // A confirmed code ends the run of wrong codes; with none counted there is nothing to write.
    if (lock.counting.code) await recordSuccess(tx, "code", subject);
    // A temporary password brings "Choose a new password" before anything else (issue 11).
    const stage = await stageAfterCode(tx, user);
    return advanceSession(tx, deps.random, session, now, { stage, flowId: null, verifiedAt: now });
  });
  if (!advanced) return { kind: "used" };
  deps.metrics.codesConfirmed.inc();
  deps.metrics.signIns.inc({ outcome: "code-ok" });
  return { kind: "signed-in", token: advanced.token, session: advanced.session, returnTo: flow.return_to, flowKind: flow.kind };
}

export type RegenerateOutcome = IssueOutcome | { kind: "no-flow" };

/** "Regenerate OTP": voids the old code and sends a new one, within the wait and the caps. */
export async function regenerateCode(deps: Deps, user: User, session: Session, ctx: RequestContext): Promise<RegenerateOutcome> {
  const now = deps.clock.now();
  const flow = session.flow_id ? await findFlow(deps.db, session.flow_id) : undefined;
  if (!flow || flow.finished_at !== null) return { kind: "no-flow" };
  const issued = await deps.db.transaction().execute(async (tx) => {
    const outcome = await issueCode(deps, tx, flow, user.login_id, now, ctx);
    if (outcome.kind === "sent") {
      await recordAudit(tx, now, { event: "code.regenerated", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { purpose: flow.kind } });
    }
    return outcome;
  });
  if (issued.kind === "sent") {
    deps.metrics.codesSent.inc();
    deps.mailQueued();
  }
  return issued;
}

/** "Cancel": voids the code and ends the half-signed-in session; the user is back at sign in. */
export async function cancelSignIn(deps: Deps, user: User, session: Session, ctx: RequestContext): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (tx) => {
    if (session.flow_id) await voidFlowCodes(tx, session.flow_id, "cancelled", now);
    await endSession(tx, session.id, now, "cancelled");
    await recordAudit(tx, now, { event: "code.cancelled", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
  });
}

export async function signOut(deps: Deps, user: User, session: Session, ctx: RequestContext): Promise<void> {
  const now = deps.clock.now();
  await endSession(deps.db, session.id, now, "signout");
  await recordAudit(deps.db, now, { event: "signout", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
}
