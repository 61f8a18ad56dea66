import type { AddressEntry } from "../../enrolment/review-address.ts";
import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField } from "../layout.ts";

export interface SuggestionView {
  /** The address FAMOS thinks was meant. */
  suggestion: string;
  /** The address as typed, which the main form keeps if sent again unchanged. */
  typed: string;
  /** The main form's button, named in the advice ("Update", "Send code"). */
  button: string;
}

/** The name of the main form's field a "Use …" button of that form fills with the suggested address. */
export const USE_SUGGESTION = "useSuggestion";

/**
 * "Did you mean …?" (issue 15): a small form of its own (forms do not nest) that sends the suggested
 * address in both fields, and the advice that sending the main form again keeps what was typed.
 * Where the main form asks for the password (`passwordForm`, its id), "Use …" is a button of that form
 * instead (useSuggestionButton, in the form's buttons), sending USE_SUGGESTION: the password typed there
 * goes with it. The small form has no password, and its answer asked for one, the address then as a
 * question again.
 */
export function didYouMean(
  t: Translator,
  v: SuggestionView,
  form: { csrf: string; action: string; fields: [string, string]; ownMailbox: boolean; passwordForm?: string | undefined },
): SafeHtml {
  const use = t.text("suggestion.use", { suggestion: v.suggestion });
  return html`<div class="message warning" role="alert">
<p>${t.html("suggestion.didYouMean", { suggestion: v.suggestion })}</p>
${form.passwordForm
  ? ""
  : html`<form method="post" action="${form.action}" class="suggestion">
  ${csrfField(form.csrf)}
  <input type="hidden" name="${form.fields[0]}" value="${v.suggestion}">
  <input type="hidden" name="${form.fields[1]}" value="${v.suggestion}">
  ${form.ownMailbox ? html`<input type="hidden" name="ownMailbox" value="yes">` : ""}
  <button type="submit">${use}</button>
</form>`}
<p>${t.html("suggestion.keep", { typed: v.typed, button: v.button })}</p>
</div>`;
}

/**
 * "Use …" of a main form asking for the password (`formId`), rendered in that form's buttons AFTER its own
 * button: the first submit button in tree order is the form's default button, the one Enter in a field
 * presses, and Enter must keep what was typed, never mail the suggested (maybe a stranger's) address.
 * Empty when no suggestion is shown.
 */
export function useSuggestionButton(t: Translator, suggestion: string | undefined, formId: string): SafeHtml {
  return suggestion
    ? html`<button type="submit" form="${formId}" class="secondary" name="${USE_SUGGESTION}" value="${suggestion}">${t.text("suggestion.use", { suggestion })}</button>`
    : html``;
}

/**
 * The address a form with a password sent: the suggestion its "Use …" button carried (USE_SUGGESTION),
 * in both fields, else the fields as typed with the address kept after the question (keepTyped).
 */
export function sentAddress(typed: AddressEntry, used: string | undefined): AddressEntry {
  return used === undefined ? typed : { email: used, confirmEmail: used, ownMailbox: typed.ownMailbox };
}

/** In the main form: the address the person was asked about, so sending it again unchanged keeps it. */
export function keepTypedField(typed: string | undefined): SafeHtml {
  return typed ? html`<input type="hidden" name="keepTyped" value="${typed}">` : html``;
}
