import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { issueCode, voidUserCodes, type IssueOutcome } from "../otp/codes.ts";
import { createFlow } from "../otp/flows.ts";
import { advanceSession, type Session } from "../session/sessions.ts";
import type { RequestContext } from "../signin/context.ts";
import { setPendingEmail, type User } from "../users/users.ts";
import type { EmailProblem } from "./email-rules.ts";
import { reviewNewAddress, type AddressEntry } from "./review-address.ts";

export type EnrolOutcome =
  /** `token`: the session's new token (null when the session ended meanwhile). */
  | { kind: "code-sent"; issued: IssueOutcome; token: string | null }
  /** `suggestion`: the address a "Did you mean …?" offers (problem "did-you-mean"). */
  | { kind: "invalid"; problem: EmailProblem; message: string; suggestion?: string };

/**
 * Screen 2, "User profile": the address stays pending until a code sent to it is confirmed; only
 * then is it the user's OTP email. A user who mistyped it signs in again and is asked again.
 */
export async function enrolEmail(deps: Deps, user: User, session: Session, entry: AddressEntry, ctx: RequestContext): Promise<EnrolOutcome> {
  const check = await reviewNewAddress(deps, user, entry);
  if (!check.ok) return { kind: "invalid", problem: check.problem, message: check.message, ...("suggestion" in check ? { suggestion: check.suggestion } : {}) };
  const now = deps.clock.now();
  const { issued, token } = await deps.db.transaction().execute(async (tx) => {
    await setPendingEmail(tx, user.id, check.email, now);
    // Only the newest address entered can be confirmed: a code sent to a mistyped one, still open in
    // another browser, must not make that address the OTP email.
    await voidUserCodes(tx, user.id, "superseded", now);
    const flow = await createFlow(tx, deps.random, { userId: user.id, kind: "enrol", email: check.email, now });
    const outcome = await issueCode(deps, tx, flow, user.login_id, now, ctx);
    // Each step gives the session a new token, so one seen before this step is worth nothing (ASVS 3.2.1).
    const advanced = await advanceSession(tx, deps.random, session, now, { stage: "otp", flowId: flow.id });
    const detail = { sharedMailbox: check.sharedMailbox };
    await recordAudit(tx, now, { event: "enrolment.started", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail });
    if (outcome.kind === "sent") {
      await recordAudit(tx, now, { event: "code.sent", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { purpose: "enrol" } });
    }
    return { issued: outcome, token: advanced?.token ?? null };
  });
  if (issued.kind === "sent") {
    deps.metrics.codesSent.inc();
    deps.mailQueued();
  }
  return { kind: "code-sent", issued, token };
}
