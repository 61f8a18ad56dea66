import type { Translator } from "../../i18n/translator.ts";
import type { IdentityField } from "../../support/identity-match.ts";
import type { FieldProblems } from "../field-problems.ts";
import { TICKET_MAX_LENGTH, TICKET_PROBLEM } from "../../support/ticket.ts";

/**
 * A ticket reference refused (src/support/ticket.ts), in the support user's language: every form with
 * a ticket says this, the length's words or, for an invisible character, that rule's.
 */
export function ticketProblem(t: Translator, message: string): string {
  return message === TICKET_PROBLEM ? t.text("console.problem.ticket", { max: TICKET_MAX_LENGTH }) : t.said(message);
}

/**
 * Why an OTP email reset or a temporary password was refused, in the support user's language and by
 * field, so the form says every problem at once, each beside its field (field-problems.ts): each
 * field that does not match the account (checkIdentifiedRequest says which), and the ticket's own
 * problem. The words say no more about the account than which typed field differs from it.
 */
export function requestProblems(t: Translator, check: { kind: "mismatch"; fields: IdentityField[]; ticketProblem?: string } | { kind: "ticket"; message: string }): FieldProblems {
  if (check.kind === "ticket") return new Map([["ticket", ticketProblem(t, check.message)]]);
  const problems = new Map<string, string>(check.fields.map((field) => [field, t.text("console.problem.fieldMismatch", { field })]));
  if (check.ticketProblem !== undefined) problems.set("ticket", ticketProblem(t, check.ticketProblem));
  return problems;
}

/**
 * A domain sentence in the reader's language: by its own "said." key, or, for a sentence the domain
 * made from a rule's fragment ("the login ID must be …" → "The login ID must be ….", account/create),
 * by the fragment's key.
 */
export function saidSentence(t: Translator, message: string): string {
  const said = t.said(message);
  if (said !== message) return said;
  const sentence = /^(\p{Lu})(.*)\.$/su.exec(message);
  if (!sentence) return message;
  const fragment = `${sentence[1]!.toLowerCase()}${sentence[2]!}`;
  const translated = t.said(fragment);
  return translated === fragment ? message : `${translated.charAt(0).toLocaleUpperCase(t.locale)}${translated.slice(1)}.`;
}
