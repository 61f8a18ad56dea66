/**
 * HTML by tagged template, escaping by default: every interpolated value is escaped unless it is
 * itself the result of `html`. This keeps user input (names, addresses, notices) inert everywhere.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

const SPECIAL = /[&<>"']/;

export function escapeHtml(text: string): string {
  // Most values (times, addresses, words from the catalogue) have nothing to escape: a test is half
  // the cost of a replace that finds nothing (issue 17: a Profile page escapes hundreds).
  return SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : text;
}

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Marks text that is already HTML. Only for constants and trusted output of `html`. */
export function unsafeRaw(text: string): SafeHtml {
  return new SafeHtml(text);
}
