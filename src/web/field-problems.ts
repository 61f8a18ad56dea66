import type { Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";

/**
 * A refused form's reasons by field id, in the form's order and the reader's language. The form says
 * them all at once (WCAG 3.3.1, 3.3.3): a summary announced on arrival, each reason again beside its
 * field and read with it, the cursor on the first wrong field; the typed values stay in the fields.
 */
export type FieldProblems = ReadonlyMap<string, string>;

export const NO_PROBLEMS: FieldProblems = new Map();

/**
 * The announced summary (role=alert): how many, and each reason as a link to its field. A reason
 * that concerns several fields ("From" is after "Until": either may be the wrong one) stands beside
 * each of them, under each id, and is counted and linked once here, to the first.
 */
export function problemSummary(t: Translator, problems: FieldProblems): SafeHtml {
  if (problems.size === 0) return html``;
  const reasons = new Map<string, string>();
  for (const [id, text] of problems) if (!reasons.has(text)) reasons.set(text, id);
  return html`<div class="message error" role="alert"><p>${t.text("form.problems", { count: reasons.size })}</p>
<ul>${[...reasons].map(([text, id]) => html`<li><a href="#${id}">${text}</a></li>`)}</ul></div>`;
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

/** What a form says about one of its fields: the label, and an advice read with the field (its id `${id}Hint`). */
export interface FieldLabel {
  id: string;
  label: string;
  hint?: string;
}

/**
 * One field of a form as every console form shows it: the label, the hint, the reason the field was
 * refused (fieldProblem), then the control with the field's state (fieldState): described by the
 * reason and the hint, invalid, the cursor on the first wrong field. `control` makes the select or
 * textarea from the state; an input is textField.
 */
export function labelledField(problems: FieldProblems, f: FieldLabel, control: (state: SafeHtml) => SafeHtml): SafeHtml {
  const hintId = f.hint === undefined ? undefined : `${f.id}Hint`;
  return html`<label for="${f.id}">${f.label}</label>${f.hint === undefined ? "" : html`
  <p class="advice" id="${hintId}">${f.hint}</p>`}${fieldProblem(problems, f.id)}
  ${control(fieldState(problems, f.id, hintId))}`;
}

export interface TextField extends FieldLabel {
  value: string | undefined;
  type?: "text" | "email" | "datetime-local";
  maxlength?: number;
  /** Off for what support types about someone else: the browser's suggestions would be the agent's own. */
  autocomplete?: "off";
  /** A login ID: typed as it is, no capital letter first, no spelling marks. */
  verbatim?: boolean;
  required?: boolean;
}

/** An input of a console form, named by its id, with its label, hint and problem (labelledField). */
export function textField(problems: FieldProblems, f: TextField): SafeHtml {
  return labelledField(
    problems,
    f,
    (state) =>
      html`<input type="${f.type ?? "text"}" id="${f.id}" name="${f.id}" value="${f.value ?? ""}"${f.maxlength === undefined ? "" : html` maxlength="${f.maxlength}"`}${f.autocomplete ? html` autocomplete="${f.autocomplete}"` : ""}${f.verbatim ? html` autocapitalize="none" spellcheck="false"` : ""}${f.required ? html` required` : ""}${state}>`,
  );
}
