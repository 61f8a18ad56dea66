import { userTranslator } from "../i18n/translator.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { hashPassword } from "../password/hash.ts";
import { checkNewPassword } from "../password/policy.ts";
import { type Session } from "../session/sessions.ts";
import { advanceSession } from "../session/session-steps.ts";
import { endAccessForNewPassword } from "../account/access.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { setOrdinaryPassword, type User } from "../users/users.ts";
import { passwordChangedMail } from "./messages.ts";
import { provePassword, type PasswordProof } from "./reauthenticate.ts";

export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
  confirmNewPassword: string;
}

export type PasswordChangeOutcome =
  | { kind: "changed"; token: string; session: Session }
  | { kind: "current-wrong" }
  | Extract<PasswordProof, { kind: "locked" }>
  /**
   * Not changed: this session ended while the change was on its way (the user ended it from another
   * browser, or support reset, disabled or gave a temporary password). The user signs in again.
   */
  | { kind: "signed-out" }
  | { kind: "invalid"; field: "newPassword" | "confirmNewPassword"; message: string };

/**
 * Profile → change the password (SPEC item 6): the current password, the new one twice under the
 * policy of NIST SP 800-63B 5.1.1.2 (checkNewPassword). The new hash is argon2id; the user's other
 * sessions end (ASVS 3.3.3), this one gets a new token, and the OTP email is told.
 */
export async function changePassword(deps: Deps, user: User, session: Session, input: PasswordChange, ctx: RequestContext): Promise<PasswordChangeOutcome> {
  // The new password is checked first: a typo there costs no guess against the lock.
  const invalid = checkChosenPassword(user, input.newPassword, input.confirmNewPassword);
  if (invalid) return invalid;
  if (input.newPassword === input.currentPassword) {
    return { kind: "invalid", field: "newPassword", message: "The new password is the same as the current one. Choose a different password." };
  }

  const proof = await provePassword(deps, user, input.currentPassword, ctx, "password-change");
  if (proof.kind === "wrong") return { kind: "current-wrong" };
  if (proof.kind === "locked") return proof;
  return replacePassword(deps, user, session, await hashPassword(input.newPassword), ctx, { stage: session.stage, detail: {} });
}

/** The new password twice, under the policy of NIST SP 800-63B 5.1.1.2; null when acceptable. */
export function checkChosenPassword(user: Pick<User, "login_id" | "full_name">, newPassword: string, confirmNewPassword: string): Extract<PasswordChangeOutcome, { kind: "invalid" }> | null {
  if (newPassword !== confirmNewPassword) {
    return { kind: "invalid", field: "confirmNewPassword", message: "The two new passwords do not match. Type the same password in both fields." };
  }
  const policy = checkNewPassword(newPassword, { loginId: user.login_id, name: user.full_name });
  return policy.ok ? null : { kind: "invalid", field: "newPassword", message: policy.message };
}

/**
 * Stores a chosen password (Profile, or "Choose a new password" after a temporary one): the hash,
 * no temporary flag, the user's other sessions and browsers' device cookies ended (ASVS 3.3.3), the OTP email told, audited, and
 * this session moved on with a new token.
 */
export async function replacePassword(
  deps: Deps,
  user: User,
  session: Session,
  hash: string,
  ctx: RequestContext,
  next: { stage: Session["stage"]; detail: Record<string, string> },
): Promise<Extract<PasswordChangeOutcome, { kind: "changed" | "signed-out" }>> {
  const now = deps.clock.now();
  const advanced = await deps.db.transaction().execute(async (tx) => {
    // An ended session changes nothing, however far its request had come: whoever ended it (the user
    // from another browser, support) meant it to have no more say. The check is the session's own
    // conditional update, after the user's row (the one order of locks, store/take-turns.ts).
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: user.id });
    const moved = await advanceSession(tx, deps.random, session, now, { stage: next.stage, flowId: session.flow_id });
    if (!moved) return null;
    await setOrdinaryPassword(tx, user.id, hash, now);
    // Every other way in ends: the other sessions, the codes of flows not this session's (a pending
    // "Forgot password?" reset among them), and the device cookies of other browsers.
    const told = { kind: "notice.password-changed", recipient: user.otp_email, mail: () => passwordChangedMail({ loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail }) } as const;
    const ended = await endAccessForNewPassword(deps, tx, user, now, "password-changed", told, { session: moved.session, deviceTokens: ctx.deviceTokens });
    await recordAudit(tx, now, { event: "password.changed", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { sessionsEnded: ended.sessions, devicesForgotten: ended.devices, ...next.detail } });
    return moved;
  });
  if (!advanced) return { kind: "signed-out" };
  deps.mailQueued();
  return { kind: "changed", token: advanced.token, session: advanced.session };
}
