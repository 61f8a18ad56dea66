import type { Translator } from "../../i18n/translator.ts";
import type { IdentifiedRequestCheck } from "../../support/identified-request.ts";
import { TICKET_MAX_LENGTH, TICKET_PROBLEM } from "../../support/ticket.ts";

const FIELD_KEYS = { name: "console.problem.fieldName", loginId: "console.problem.fieldLoginId", partnerNumber: "console.problem.fieldPartner" } as const;

/**
 * A ticket reference refused (src/support/ticket.ts), in the support user's language: every form with
 * a ticket says this, the length's words or, for a zero-width or bidirectional character, that rule's.
 */
export function ticketProblem(t: Translator, message: string): string {
  return message === TICKET_PROBLEM ? t.text("console.problem.ticket", { max: TICKET_MAX_LENGTH }) : t.said(message);
}

/**
 * Why an OTP email reset or a temporary password was refused, in the support user's language: the
 * domain says which fields did not match (checkIdentifiedRequest), the page says it in words, the list
 * joined as the language joins lists ("name, login ID and partner number").
 */
export function requestProblem(t: Translator, check: Exclude<IdentifiedRequestCheck, { ok: true }> | { kind: "not-found" }): string {
  switch (check.kind) {
    case "mismatch": {
      const fields = new Intl.ListFormat(t.locale, { type: "conjunction" }).format(check.fields.map((f) => t.text(FIELD_KEYS[f])));
      return t.text("console.problem.mismatch", { fields, count: check.fields.length });
    }
    case "ticket":
      return ticketProblem(t, check.message);
    case "not-found":
      return t.said("There is no such user.");
    default:
      return t.said(check.message);
  }
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
