import { hasControlCharacters, hasInvisibleCharacters } from "../users/fields.ts";

/**
 * The support ticket reference an action came in on (an OTP email reset, a temporary password, the
 * removal of second factors): kept in the audit trail, told to the user, shown on the console and in
 * an operator's terminal. One home for its rule, so every flow takes and refuses the same tickets.
 */
export const TICKET_MAX_LENGTH = 64;

export const TICKET_PROBLEM = `Enter the ticket reference of the request (1 to ${TICKET_MAX_LENGTH} characters).`;

/** The ticket goes into the mail to the old address, the audit trail and terminals: a U+202E there reverses what follows. */
export const TICKET_INVISIBLE = "The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors).";

export type TicketCheck<T> = { ok: true; ticket: T } | { ok: false; kind: "ticket"; message: string };

/**
 * A required ticket: 1 to 64 characters once trimmed, no control characters (C0, DEL, C1), no
 * invisible format characters (users/fields.ts's rule for login IDs and names).
 */
export function checkTicket(typed: string): TicketCheck<string> {
  const ticket = typed.trim();
  if (ticket === "" || ticket.length > TICKET_MAX_LENGTH || hasControlCharacters(ticket)) return { ok: false, kind: "ticket", message: TICKET_PROBLEM };
  if (hasInvisibleCharacters(ticket)) return { ok: false, kind: "ticket", message: TICKET_INVISIBLE };
  return { ok: true, ticket };
}

/** An optional ticket: nothing or only spaces is no ticket (null); anything else obeys checkTicket's rule. */
export function checkOptionalTicket(typed: string | null | undefined): TicketCheck<string | null> {
  if (typed === null || typed === undefined || typed.trim() === "") return { ok: true, ticket: null };
  return checkTicket(typed);
}
