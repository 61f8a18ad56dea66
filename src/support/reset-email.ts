import { userTranslator } from "../i18n/translator.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { voidUserCodes } from "../otp/codes.ts";
import { finishUserFlows } from "../otp/flows.ts";
import { revokeDevices } from "../regulation/devices.ts";
import { endUserSessions } from "../session/sessions.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { findUserById, type User } from "../users/users.ts";
import { actingNow, type Acting } from "./acting.ts";
import { checkIdentifiedRequest, type IdentifiedRequest, type IdentifiedRequestCheck } from "./identified-request.ts";
import { resetMail } from "./messages.ts";

export type ResetOutcome =
  | { kind: "reset"; user: User; previousEmail: string | null; sessionsEnded: number }
  | { kind: "not-found" }
  | Exclude<IdentifiedRequestCheck, { ok: true }>;

/**
 * The "OTP email reset" (SPEC item 8; the console and `famos user reset-email` both call this): in
 * one transaction the confirmed and pending addresses are cleared, every live code is void, every
 * session ends, the old address is told, and the reset is audited with its ticket. The next sign-in
 * brings "User profile", as at the first.
 */
export async function resetOtpEmail(deps: Deps, by: Acting, userId: string, request: IdentifiedRequest): Promise<ResetOutcome> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    // Read inside the transaction, with the account's row taken first on PostgreSQL (a plain read
    // there sees the account as last committed): so the checks and the change see the same account,
    // and a second reset at once finds it reset already.
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: userId });
    const target = await findUserById(tx, userId);
    if (!target) return { kind: "not-found" as const };
    // The acting person as they are now (actingNow): the console's step-up checked a password since the request read them.
    const check = checkIdentifiedRequest(await actingNow(tx, by), target, request, "reset");
    if (!check.ok) return check;

    // otp_email_confirmed_at stays: the account has had two factors, and the rollout's password-only
    // ways (before its wave, "Later") stay closed to it (alwaysTwoFactor, rollout/applies.ts), so the
    // next sign-in brings "User profile" as the reset's mail says, not the portal on the password alone.
    await tx
      .updateTable("users")
      .set({ otp_email: null, pending_email: null, updated_at: now })
      .where("id", "=", target.id)
      .execute();
    await voidUserCodes(tx, target.id, "reset", now);
    await finishUserFlows(tx, target.id, now);
    const sessionsEnded = await endUserSessions(tx, target.id, now, "reset");
    // A reset follows a lost inbox or a compromise: the browsers known for the login ID start afresh.
    await revokeDevices(tx, target.login_key, now);
    // Only a confirmed address is told: a pending one was never shown to be the user's.
    if (target.otp_email) {
      const mail = resetMail({ loginId: target.login_id, ticket: check.ticket, at: now, t: userTranslator(deps.config, target), supportEmail: deps.config.supportEmail });
      await enqueueMail(tx, now, deps.random, deps.mailDomain, { userId: target.id, kind: "notice.email-reset", recipient: target.otp_email, ...mail });
    }
    await recordAudit(tx, now, {
      ...by.audit,
      event: "email.reset",
      subject: target.login_id,
      detail: { ticket: check.ticket, previousEmail: target.otp_email, pendingEmail: target.pending_email, sessionsEnded },
    });
    return { kind: "reset" as const, user: target, previousEmail: target.otp_email, sessionsEnded };
  }).then((outcome) => {
    if (outcome.kind === "reset") deps.mailQueued();
    return outcome;
  });
}
