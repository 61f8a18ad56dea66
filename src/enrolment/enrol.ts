import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { sendCode } from "../factors/send-code.ts";
import type { IssueOutcome } from "../otp/codes.ts";
import { createFlow } from "../otp/flows.ts";
import { endSupersededFlows } from "../otp/superseded-flows.ts";
import { NotMoved, unlessMoved, type Moved, type SignedOut } from "../session/live-session.ts";
import { type Session } from "../session/sessions.ts";
import { advanceSession, type IssuedSession } from "../session/session-steps.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Locale } from "../i18n/locales.ts";
import { saveBrowserLocale, withBrowserLocale } from "../users/locale.ts";
import { confirmOtpEmail, findUserById, setPendingEmail, type User } from "../users/users.ts";
import type { Database } from "../store/schema.ts";
import type { EmailProblem } from "./email-rules.ts";
import { reviewNewAddress, type AddressEntry } from "./review-address.ts";

export type EnrolOutcome =
  /** `renewed`: the session at the code step and its new token. */
  | { kind: "code-sent"; issued: IssueOutcome; renewed: IssuedSession }
  /**
   * Another request of the session (a double click) moved it on first: nothing written, no code sent,
   * so the code the first mailed stays the one that confirms (red team 2026-12-07: this one voided it
   * and mailed its own, for a flow the session never reached, and neither worked until Regenerate).
   */
  | Moved
  /** `suggestion`: the address a "Did you mean …?" offers (problem "did-you-mean"). */
  | { kind: "invalid"; problem: EmailProblem; message: string; suggestion?: string }
  /** The session ended while the address was reviewed (a support reset, a disable): no code, nothing kept. */
  | SignedOut;

/**
 * Screen 2, "User profile": the address stays pending until a code sent to it is confirmed; only
 * then is it the user's OTP email. A user who mistyped it signs in again and is asked again.
 * `browserLocale` (issue 16): the language the browser reads FAMOS in, which the code mail is written
 * in and which becomes the user's, in the same transaction, unless they chose one on Profile.
 */
export async function enrolEmail(deps: Deps, stored: User, session: Session, entry: AddressEntry, ctx: RequestContext, browserLocale?: Locale): Promise<EnrolOutcome> {
  // The user as the code mail sees them: in the browser's language when they chose none.
  const user = browserLocale ? withBrowserLocale(stored, browserLocale) : stored;
  const check = await reviewNewAddress(deps, user, entry);
  if (!check.ok) return { kind: "invalid", problem: check.problem, message: check.message, ...("suggestion" in check ? { suggestion: check.suggestion } : {}) };
  const sent = await unlessMoved(sendCode(deps, user, session, ctx, async (tx, send, now) => {
    await setPendingEmail(tx, user.id, check.email, now);
    if (browserLocale) await saveBrowserLocale(tx, stored, browserLocale);
    // Only the newest address entered can be confirmed: a code sent to a mistyped one, still open in
    // another browser ("User profile" or the Profile tab), must not make that address the OTP email,
    // nor Regenerate OTP there send a fresh one (red team 2026-12-07).
    await endSupersededFlows(tx, user.id, check.email, now);
    const flow = await createFlow(tx, deps.random, { userId: user.id, kind: "enrol", email: check.email, now });
    const outcome = await send(flow);
    // Each step gives the session a new token, so one seen before this step is worth nothing (ASVS 3.2.1).
    const advanced = await advanceSession(tx, deps.random, session, now, { stage: "otp", flowId: flow.id });
    if (!advanced) throw new NotMoved();
    const detail = { sharedMailbox: check.sharedMailbox };
    await recordAudit(tx, now, { event: "enrolment.started", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail });
    return { issued: outcome, renewed: advanced };
  }));
  return "value" in sent ? { kind: "code-sent", ...sent.value } : sent;
}

/**
 * An enrolment's code confirmed (in the confirming transaction, the user's row taken): the address
 * becomes the OTP email only while the account has none confirmed, and the account's other sessions
 * that have not passed a second factor end (their reason "enrolled"). Another browser that passed the
 * password before the owner enrolled sat at "User profile", or at the code of an address the owner's
 * enrolment superseded; enrolling or regenerating there after she confirmed hers replaced it, with the
 * password alone, nobody told (SPEC item 2: "After confirmation the user is never asked again, except
 * after a support reset"; item 6 is the way to change it). False: nothing written; the caller rolls back.
 */
export async function confirmEnrolment(tx: Kysely<Database>, userId: string, sessionId: string, email: string, now: number): Promise<boolean> {
  const current = await findUserById(tx, userId);
  if (!current || current.otp_email !== null) return false;
  await confirmOtpEmail(tx, userId, email, now);
  await tx
    .updateTable("sessions")
    .set({ ended_at: now, end_reason: "enrolled" })
    .where("user_id", "=", userId)
    .where("ended_at", "is", null)
    .where("id", "!=", sessionId)
    .where("stage", "in", ["enrol", "otp"])
    .execute();
  return true;
}
