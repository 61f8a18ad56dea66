import { userTranslator } from "../i18n/translator.ts";
import type { Deps } from "../app/deps.ts";
import { forgetOtherDevices } from "../account/access.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import { addressKey } from "../bounce/addresses.ts";
import type { EmailProblem } from "../enrolment/email-rules.ts";
import { reviewNewAddress, type AddressEntry } from "../enrolment/review-address.ts";
import { checkCode, type CodeCheck } from "../factors/check-code.ts";
import { finishedByItsCode } from "../factors/code-reuse.ts";
import { sendCode } from "../factors/send-code.ts";
import { inLiveSession, NotMoved, RollBack, rolledBackAs, unlessMoved, type Moved, type SignedOut } from "../session/live-session.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { voidFlowCodes, voidUserCodes, type IssueOutcome } from "../otp/codes.ts";
import { createFlow, findFlow, finishFlow, newestOpenFlow, type Flow } from "../otp/flows.ts";
import { endSupersededFlows } from "../otp/superseded-flows.ts";
import { endUserSessions, type Session } from "../session/sessions.ts";
import { advanceSession, newFactorChange, setSessionStep } from "../session/session-steps.ts";
import { regenerateCode, type RegenerateOutcome } from "../signin/code-step.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { confirmOtpEmail, findUserById, setPendingEmail, type User } from "../users/users.ts";
import { emailChangedMail } from "./messages.ts";
import { requireFreshProof, type PasswordProof } from "./reauthenticate.ts";

export type StartOutcome =
  | { kind: "code-sent"; issued: IssueOutcome }
  | { kind: "invalid"; problem: EmailProblem | "same-address"; message: string; suggestion?: string }
  /** No code confirmed in the last 15 minutes: the password is needed (and was not given). */
  | { kind: "password-needed" }
  | { kind: "password-wrong" }
  | Extract<PasswordProof, { kind: "locked" }>
  /** The session ended while the address or the password was checked (a support reset, a disable): no code, nothing kept. */
  | SignedOut
  /** A double click's loser: the first click moved the session to its flow, whose code confirms; nothing written, no code sent. */
  | Moved;

/**
 * Profile → change the OTP email, first half (SPEC item 6). The address is checked by the rules of
 * enrolment; the change needs a recent code or the password (ASVS 3.7.1); a code goes to the *new*
 * address, and until it is confirmed nothing changes: sign-in codes keep going to the old one.
 * The flow is bound to this session, so only this session can confirm it.
 */
export async function startEmailChange(
  deps: Deps,
  user: User,
  session: Session,
  input: { entry: AddressEntry; password: string | null },
  ctx: RequestContext,
): Promise<StartOutcome> {
  const check = await reviewNewAddress(deps, user, input.entry);
  if (!check.ok) return { kind: "invalid", problem: check.problem, message: check.message, ...("suggestion" in check ? { suggestion: check.suggestion } : {}) };
  if (user.otp_email !== null && user.otp_email.toLowerCase() === check.email.toLowerCase()) {
    return { kind: "invalid", problem: "same-address", message: "That is already your OTP email. Enter the new address you want your codes sent to." };
  }
  const proof = await requireFreshProof(deps, user, session, input.password, ctx, "email-change");
  if (proof.kind !== "ok") return proof;

  const sent = await unlessMoved(sendCode(deps, user, session, ctx, async (tx, send, now) => {
    // A second request replaces the first: its code stops working.
    if (session.flow_id) await finishEmailChangeFlow(tx, session.flow_id, "replaced", now);
    // And a change (or, for an account without an OTP email, an enrolment) to another address started
    // in another session (a mistyped one, or one typed by someone who held a session) can no longer be
    // confirmed: the newest wins, not the first confirmed.
    await endSupersededFlows(tx, user.id, check.email, now);
    await setPendingEmail(tx, user.id, check.email, now);
    const flow = await createFlow(tx, deps.random, { userId: user.id, kind: "email-change", email: check.email, now });
    // Only from the flow this request read the session at: another request of it (a double click)
    // that moved it first keeps its flow and code, and this one rolls back whole.
    if (!(await setSessionStep(tx, session, "full", flow.id))) throw new NotMoved();
    await auditAs(user, ctx, now)(tx, { event: "email.change-started", detail: { to: check.email, sharedMailbox: check.sharedMailbox } });
    return { issued: await send(flow) };
  }));
  return "value" in sent ? { kind: "code-sent", issued: sent.value.issued } : sent;
}

/** The email change waiting for its code in this session, if any. */
export async function pendingEmailChange(deps: Deps, user: User, session: Session): Promise<Flow | null> {
  const flow = await sessionEmailChange(deps, user, session);
  return flow && flow.finished_at === null ? flow : null;
}

/**
 * Whether this session's email change ended while the session still points to it: a change started
 * since in another session superseded it (endSupersededFlows), as Cancel and a confirmation move the
 * session off its flow, and the other ways a change ends end the session too. What its tab then says
 * ("This email change is no longer open…"), rather than the Profile page with nothing said.
 * The session's row as it is now, with its change, in one statement (one moment on PostgreSQL at READ
 * COMMITTED): `session` is the row as the request loaded it, and a double click's first Cancel may have
 * moved it off its change since — that change ended, but no other replaced it.
 */
export async function emailChangeReplaced(deps: Deps, user: User, session: Session): Promise<boolean> {
  if (!session.flow_id) return false;
  const ended = await deps.db
    .selectFrom("sessions")
    .innerJoin("flows", "flows.id", "sessions.flow_id")
    .select("flows.id")
    .where("sessions.id", "=", session.id)
    .where("flows.id", "=", session.flow_id)
    .where("flows.kind", "=", "email-change")
    .where("flows.user_id", "=", user.id)
    .where("flows.finished_at", "is not", null)
    .executeTakeFirst();
  return ended !== undefined;
}

/** The email change this session points to, open or finished (null: none, or not this user's). */
async function sessionEmailChange(deps: Deps, user: User, session: Session): Promise<Flow | null> {
  if (!session.flow_id) return null;
  const flow = await findFlow(deps.db, session.flow_id);
  return flow && flow.kind === "email-change" && flow.user_id === user.id ? flow : null;
}

export type ConfirmChangeOutcome =
  | { kind: "changed"; token: string; session: Session; email: string }
  | { kind: "no-change" }
  | Exclude<CodeCheck<never>, { kind: "ok" }>;

/**
 * Profile → change the OTP email, second half: the code from the new address. Wrong codes count
 * toward the same lock as at sign-in. On success, in one transaction: the address switches, every
 * other live code is void, the user's other sessions and other browsers' device cookies end, the old
 * address is told, and this
 * session gets a new token (a step up, ASVS 3.2.1).
 */
export async function confirmEmailChange(deps: Deps, user: User, session: Session, typed: string, ctx: RequestContext): Promise<ConfirmChangeOutcome> {
  const flow = await sessionEmailChange(deps, user, session);
  // A change its own code finished goes on to checkCode, which answers "used" and audits the reuse (the
  // twin of a double submit that read the session before the first was answered); one ended otherwise is none.
  if (!flow || (flow.finished_at !== null && !(await finishedByItsCode(deps.db, flow)))) return { kind: "no-change" };
  // Cancel in another tab of the session, or a newer change in another browser, finished the change after
  // this request read it open: its code was voided by the user's own request, so the code typed, compared
  // with no live code, guesses nothing (checkCode's `voidedSince`).
  // That change is none open now, as one read finished: "no-change", and Profile says what ended it.
  let voided = false;
  const voidedSince = async () => (voided = (await findFlow(deps.db, flow.id))?.finished_at != null);
  const check = await checkCode(deps, { user, flow, typed, voidedSince }, ctx, async (tx, now) => {
    const before = await findUserById(tx, user.id);
    const oldEmail = before?.otp_email ?? null;
    await confirmOtpEmail(tx, user.id, flow.email, now);
    // Codes in flight (a sign-in elsewhere, to the old address) stop working with the switch.
    await voidUserCodes(tx, user.id, "email-changed", now);
    const ended = await endUserSessions(tx, user.id, now, "email-changed", session.id);
    // A new second factor, as a new password is a new first one: other browsers' device cookies go.
    const devicesForgotten = await forgetOtherDevices(deps, tx, user, now, ctx.deviceTokens);
    if (oldEmail && oldEmail.toLowerCase() !== flow.email.toLowerCase()) {
      const mail = emailChangedMail({ loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail, newEmail: flow.email });
      await enqueueMail(tx, now, deps.random, deps.mailDomain, { userId: user.id, kind: "notice.email-changed", recipient: oldEmail, ...mail });
    }
    await auditAs(user, ctx, now)(tx, { event: "email.changed", detail: { from: oldEmail, to: flow.email, sessionsEnded: ended, devicesForgotten } });
    // A new token, as every step up (ASVS 3.2.1); the re-authentication windows keep running from the sign-in's code (newFactorChange).
    return advanceSession(tx, deps.random, session, now, newFactorChange(session, now, deps.config.session, null));
  });
  if (voided) return { kind: "no-change" };
  if (check.kind !== "ok") return check;
  deps.mailQueued();
  return { kind: "changed", token: check.value.token, session: check.value.session, email: flow.email };
}

/** "Regenerate OTP" on the confirmation page: the sign-in rules (wait, caps) apply unchanged. */
export async function resendEmailChangeCode(deps: Deps, user: User, session: Session, ctx: RequestContext): Promise<RegenerateOutcome> {
  if (!(await pendingEmailChange(deps, user, session))) return { kind: "no-flow" };
  return regenerateCode(deps, user, session, ctx);
}

/**
 * "Cancel": the code stops working and the OTP email stays as it was. `no-change`: none open in this
 * session (cancelled, confirmed or replaced already), nothing to do; also when a newer change in another
 * browser ended this one after it was read open (endSupersededFlows): rolled back whole, no cancellation
 * in the trail and that change's pending address left as it is. `moved`: another request of the session
 * moved it off this change first — the first Cancel of a double click, a Confirm or a newer "Send code"
 * in another tab, on another instance perhaps — so this one rolls back whole, as the other steps' double
 * clicks do (unlessMoved). `signed-out`: the session ended meanwhile (Sign out elsewhere, support), nothing done.
 */
export async function cancelEmailChange(
  deps: Deps,
  user: User,
  session: Session,
  ctx: RequestContext,
): Promise<{ kind: "cancelled" } | { kind: "no-change" } | Moved | SignedOut> {
  const flow = await pendingEmailChange(deps, user, session);
  if (!flow) return { kind: "no-change" };
  const now = deps.clock.now();
  // inLiveSession takes the user's row first, before the flow's codes, as a confirmation does (no deadlock on PostgreSQL).
  const done = await rolledBackAs(
    inLiveSession(deps, user, session, async (tx) => {
      // Only from the flow this request read the session at, checked before anything is written.
      if (!(await setSessionStep(tx, session, "full", null))) throw new NotMoved();
      // Read again with the user's row taken: a change in another browser may have ended it since.
      if ((await findFlow(tx, flow.id))?.finished_at !== null) throw new RollBack("no-change");
      await finishEmailChangeFlow(tx, flow.id, "cancelled", now);
      await setPendingEmail(tx, user.id, await pendingAfterCancel(tx, user.id, flow), now);
      await auditAs(user, ctx, now)(tx, { event: "code.cancelled", detail: { purpose: "email-change" } });
      return { kind: "cancelled" as const };
    }),
    ["moved", "no-change"] as const,
  );
  return "value" in done ? done.value : done;
}

/**
 * users.pending_email once `cancelled` is finished: the newest enrolment or email change still open
 * (another browser's, for the same mailbox in other case: endSupersededFlows keeps those) is the address
 * waiting, else none when it was the cancelled change's (addressKey), else as it is.
 */
async function pendingAfterCancel(tx: Deps["db"], userId: string, cancelled: Flow): Promise<string | null> {
  const open = await newestOpenFlow(tx, userId, { kinds: ["enrol", "email-change"] });
  if (open) return open.email;
  const pending = (await findUserById(tx, userId))?.pending_email ?? null;
  return pending !== null && addressKey(pending) === addressKey(cancelled.email) ? null : pending;
}

async function finishEmailChangeFlow(db: Deps["db"], flowId: string, reason: string, now: number): Promise<void> {
  await voidFlowCodes(db, flowId, reason, now);
  await finishFlow(db, flowId, now);
}

function auditAs(user: User, ctx: RequestContext, now: number) {
  return (db: Deps["db"], entry: Pick<AuditEntry, "event" | "detail">) =>
    recordAudit(db, now, { ...entry, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
}
