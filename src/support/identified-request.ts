import type { User } from "../users/users.ts";
import { refusal, type Acting, type Refusal } from "./acting.ts";
import { mismatchedFields, type Identity, type IdentityField } from "./identity-match.ts";
import { checkTicket } from "./ticket.ts";

/**
 * A support request as the guide's identity form takes it: the name, login ID and partner number the
 * user gave, and the ticket it came in on. An OTP email reset (console and `famos user reset-email`)
 * and a temporary password (console) are asked for with it (SPEC item 8).
 */
export interface IdentifiedRequest extends Identity {
  /** The support ticket the request came in on; kept in the audit trail and told to the user. */
  ticket: string;
}

const FIELD_NAMES: Record<IdentityField, string> = { name: "name", loginId: "login ID", partnerNumber: "partner number" };

export type IdentifiedRequestCheck =
  | { ok: true; ticket: string }
  /**
   * `ticketProblem`: the ticket's own refusal as well, when it has one, so a form can say every
   * problem at once (WCAG 3.3.1); `message` stays the mismatch's (the command line says it).
   */
  | { ok: false; kind: "mismatch"; fields: IdentityField[]; message: string; ticketProblem?: string }
  | { ok: false; kind: "ticket"; message: string }
  | ({ ok: false } & Refusal);

/**
 * Whether this person may do `action` to this account with what they typed: the role rules of
 * acting.ts for that action first ("password" refuses support a peer support account's, where a
 * "reset" is allowed), then the three fields from the user's request must match the account (SPEC
 * item 8), and a ticket reference is required. The request passes only when the fields match and the
 * ticket is right; both are checked, so a refusal names every wrong field, and says nothing about the
 * account beyond which of the typed fields do not match it. Used by each step that shows or does the
 * action: the console's confirmation step and again by the OTP email reset itself (console and
 * `famos user reset-email`); both temporary password steps.
 */
export function checkIdentifiedRequest(by: Acting, target: User, request: IdentifiedRequest, action: "reset" | "password"): IdentifiedRequestCheck {
  const refused = refusal(by, target, action);
  if (refused) return { ok: false, ...refused };
  const wrong = mismatchedFields(request, { name: target.full_name, loginId: target.login_id, partnerNumber: target.partner_number });
  const ticket = checkTicket(request.ticket);
  if (wrong.length > 0) {
    const names = wrong.map((f) => FIELD_NAMES[f]);
    const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names.at(-1)!}`;
    return {
      ok: false,
      kind: "mismatch",
      fields: wrong,
      message: `The ${list} ${wrong.length === 1 ? "does" : "do"} not match the account. Check the request with the user; nothing was changed.`,
      ...(ticket.ok ? {} : { ticketProblem: ticket.message }),
    };
  }
  return ticket.ok ? { ok: true, ticket: ticket.ticket } : ticket;
}
