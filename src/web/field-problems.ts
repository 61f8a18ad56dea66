import type { Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";

/**
 * A refused form's reasons by field id, in the form's order and the reader's language. The form says
 * them all at once (WCAG 3.3.1, 3.3.3): a summary announced on arrival, each reason again beside its
 * field and read with it, the cursor on the first wrong field; the typed values stay in the fields.
 */
export type FieldProblems = ReadonlyMap<string, string>;

export const NO_PROBLEMS: FieldProblems = new Map();

/** The announced summary (role=alert): how many, and each reason as a link to its field. */
export function problemSummary(t: Translator, problems: FieldProblems): SafeHtml {
  if (problems.size === 0) return html``;
  return html`<div class="message error" role="alert"><p>${t.text("form.problems", { count: problems.size })}</p>
<ul>${[...problems].map(([id, text]) => html`<li><a href="#${id}">${text}</a></li>`)}</ul></div>`;
}

/** The reason beside its field (put after the label, before the field). */
export function fieldProblem(problems: FieldProblems, id: string): SafeHtml {
  const text = problems.get(id);
  return text ? html`<p class="field-problem" id="${id}-problem">${text}</p>` : html``;
}

/** The field's attributes: invalid and described by its reason (then its hint, if any); the first wrong field takes the cursor. */
export function fieldState(problems: FieldProblems, id: string, hintId?: string): SafeHtml {
  const refused = problems.has(id);
  const described = [refused ? `${id}-problem` : "", hintId ?? ""].filter(Boolean).join(" ");
  const first = refused && problems.keys().next().value === id;
  return html`${refused ? html` aria-invalid="true"` : ""}${described ? html` aria-describedby="${described}"` : ""}${first ? html` autofocus` : ""}`;
}
