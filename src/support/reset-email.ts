import { userTranslator } from "../i18n/translator.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { voidUserCodes } from "../otp/codes.ts";
import { revokeDevices } from "../regulation/devices.ts";
import { endUserSessions } from "../session/sessions.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { findUserById, type User } from "../users/users.ts";
import { refusal, type Acting, type Refusal } from "./acting.ts";
import { mismatchedFields, type Identity, type IdentityField } from "./identity-match.ts";
import { resetMail } from "./messages.ts";
import { checkTicket } from "./ticket.ts";

export interface ResetRequest extends Identity {
  /** The support ticket the request came in on; kept in the audit trail and told to the user. */
  ticket: string;
}

const FIELD_NAMES: Record<IdentityField, string> = { name: "name", loginId: "login ID", partnerNumber: "partner number" };

export type ResetCheck =
  | { ok: true; ticket: string }
  | { ok: false; kind: "mismatch"; fields: IdentityField[]; message: string }
  | { ok: false; kind: "ticket"; message: string }
  | ({ ok: false } & Refusal);

/**
 * Whether this person may reset this account with what they typed: the three fields from the
 * user's request must match the account (SPEC item 8), a ticket reference is required, and the
 * role rules of acting.ts hold. Used for the console's confirmation step and again by the reset;
 * the temporary password's steps check a request the same way, under the rules of `action`
 * "password" (which refuse support a peer support account's, where a reset is allowed).
 */
export function checkResetRequest(by: Acting, target: User, request: ResetRequest, action: "reset" | "password" = "reset"): ResetCheck {
  const refused = refusal(by, target, action);
  if (refused) return { ok: false, ...refused };
  const wrong = mismatchedFields(request, { name: target.full_name, loginId: target.login_id, partnerNumber: target.partner_number });
  if (wrong.length > 0) {
    const names = wrong.map((f) => FIELD_NAMES[f]);
    const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names.at(-1)!}`;
    return {
      ok: false,
      kind: "mismatch",
      fields: wrong,
      message: `The ${list} ${wrong.length === 1 ? "does" : "do"} not match the account. Check the request with the user; nothing was changed.`,
    };
  }
  const ticket = checkTicket(request.ticket);
  return ticket.ok ? { ok: true, ticket: ticket.ticket } : ticket;
}

export type ResetOutcome =
  | { kind: "reset"; user: User; previousEmail: string | null; sessionsEnded: number }
  | { kind: "not-found" }
  | Exclude<ResetCheck, { ok: true }>;

/**
 * The "OTP email reset" (SPEC item 8; the console and `famos user reset-email` both call this): in
 * one transaction the confirmed and pending addresses are cleared, every live code is void, every
 * session ends, the old address is told, and the reset is audited with its ticket. The next sign-in
 * brings "User profile", as at the first.
 */
export async function resetOtpEmail(deps: Deps, by: Acting, userId: string, request: ResetRequest): Promise<ResetOutcome> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    // Read inside the transaction, with the account's row taken first on PostgreSQL (a plain read
    // there sees the account as last committed): so the checks and the change see the same account,
    // and a second reset at once finds it reset already.
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: userId });
    const target = await findUserById(tx, userId);
    if (!target) return { kind: "not-found" as const };
    const check = checkResetRequest(by, target, request);
    if (!check.ok) return check;

    await tx
      .updateTable("users")
      .set({ otp_email: null, otp_email_confirmed_at: null, pending_email: null, updated_at: now })
      .where("id", "=", target.id)
      .execute();
    await voidUserCodes(tx, target.id, "reset", now);
    await tx.updateTable("flows").set({ finished_at: now }).where("user_id", "=", target.id).where("finished_at", "is", null).execute();
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
