import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { FactorSummary } from "../../strong-factors/factors.ts";
import type { User } from "../../users/users.ts";
import { TICKET_MAX_LENGTH } from "../../support/ticket.ts";
import { NO_PROBLEMS, problemSummary, textField, type FieldProblems } from "../field-problems.ts";
import { csrfField } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage, zonedDateTime } from "./support-pages.ts";

/** "1 passkey (last used …); authenticator app (last used …); 7 recovery codes left" or "Emailed code only". */
export function factorsText(t: Translator, f: FactorSummary): string {
  // Every time here stands inside the sentence's own brackets ("authenticator app (set up …, last used …)").
  const used = (at: number | null) => (at === null ? t.text("console.factors.neverUsed") : t.text("console.factors.lastUsed", { at: zonedDateTime(t, at, false) }));
  const parts: string[] = [];
  if (f.passkeys > 0) parts.push(t.text("console.factors.passkeys", { count: f.passkeys, used: used(f.passkeysLastUsedAt) }));
  if (f.app) parts.push(t.text("console.factors.app", { setUp: zonedDateTime(t, f.app.confirmedAt, false), used: used(f.app.lastUsedAt) }));
  else if (f.appPending) parts.push(t.text("console.factors.appPending"));
  if (f.recoveryCodesLeft > 0 || f.recoveryCodesLastUsedAt !== null) {
    const left = t.text("console.factors.codesLeft", { count: f.recoveryCodesLeft });
    parts.push(f.recoveryCodesLastUsedAt ? t.text("console.factors.codesLeftUsed", { left, used: used(f.recoveryCodesLastUsedAt) }) : left);
  }
  return parts.length > 0 ? parts.join("; ") : t.text("console.factors.emailOnly");
}

const anyFactor = (f: FactorSummary) => f.passkeys > 0 || f.app !== null || f.appPending || f.recoveryCodesLeft > 0;

/** The console's "Remove second factors" (issue 13), or why this person may not. */
export function factorsRemovalSection(t: Translator, user: User, f: FactorSummary, csrf: string, refused: string | null): SafeHtml {
  if (!anyFactor(f)) return html``;
  // Named for what can be done here: "Second factors" is the term of the facts above, which say what the user has.
  const heading = html`<h2 id="factors-heading">${t.text("console.factors.button")}</h2>`;
  if (refused) return html`<section aria-labelledby="factors-heading">${heading}<p class="message warning" role="status">${t.said(refused)}</p></section>`;
  return html`<section aria-labelledby="factors-heading">${heading}
<form method="post" action="/support/users/${user.id}/factors">${csrfField(csrf)}
<p>${t.text("console.factors.intro")}</p>
<div class="buttons"><button type="submit">${t.text("console.factors.button")}</button></div></form></section>`;
}

/** The confirmation step: what the removal does; again, with what was typed and the ticket's problem beside it, when the ticket was refused. */
export function factorsConfirmPage(frame: PortalFrame, user: User, f: FactorSummary, v: { ticket?: string; problems?: FieldProblems } = {}): SafeHtml {
  const { t } = frame;
  const problems = v.problems ?? NO_PROBLEMS;
  const body = html`<h1>${t.text("console.factorsConfirm.heading", { loginId: user.login_id })}</h1>
${problemSummary(t, problems)}
<p>${t.text("console.factorsConfirm.has", { name: user.full_name, factors: factorsText(t, f) })}</p>
<p>${t.text("console.factorsConfirm.intro")}</p>
<ul>
  <li>${t.text("console.factorsConfirm.deletes")}</li>
  <li>${t.text("console.factorsConfirm.signsOut", { name: user.full_name })}</li>
  <li>${t.text("console.factorsConfirm.emailAgain")}</li>
</ul>
<p>${t.text("console.factorsConfirm.check")}</p>
<form method="post" action="/support/users/${user.id}/factors/confirm" novalidate>
  ${csrfField(frame.csrf)}
  ${textField(problems, { id: "ticket", label: t.text("console.factorsConfirm.ticket"), value: v.ticket, maxlength: TICKET_MAX_LENGTH, autocomplete: "off" })}
  <div class="buttons"><button type="submit">${t.text("console.factorsConfirm.button")}</button> <a class="button secondary" href="/support/users/${user.id}">${t.text("button.cancel")}</a></div>
</form>`;
  return supportPage(frame, t.text("console.factorsConfirm.title"), "users", body);
}
