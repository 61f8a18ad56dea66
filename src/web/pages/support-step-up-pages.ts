import { MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { CONSOLE_RECENT_CODE_MS } from "../../profile/reauthenticate.ts";
import { csrfField, message, refusedField } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage, type SupportSection } from "./support-pages.ts";

export interface StepUpView {
  /** The action's own address: the form goes there again, with the password. */
  action: string;
  /** The action's form as it was posted, kept in hidden fields (its CSRF token is the page's own). */
  fields: readonly (readonly [string, string])[];
  section: SupportSection;
  cancel: string;
  /** Why it is asked again (a wrong password, a pause), if not the first time. */
  error?: string;
  refused: boolean;
}

/**
 * The console's step-up (support/step-up.ts): the password again, before an action on another
 * account's access, when the session's code is older than CONSOLE_RECENT_CODE_MS. The same form
 * goes on to the action with what was typed, so nothing is typed twice.
 */
export function stepUpPage(frame: PortalFrame, view: StepUpView): SafeHtml {
  const { t } = frame;
  const heading = t.text("console.stepUp.heading");
  const body = html`<h1>${heading}</h1>
${message("error", view.error, "stepUp-error")}
<form method="post" action="${view.action}" novalidate>
  ${csrfField(frame.csrf)}
  ${view.fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
  <label for="stepUpPassword">${t.text("field.password")}</label>
  <p class="advice" id="stepUpHint">${t.text("console.stepUp.intro", { recent: t.duration(CONSOLE_RECENT_CODE_MS) })}</p>
  <input type="password" id="stepUpPassword" name="stepUpPassword" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required${refusedField("stepUp-error", view.refused, "stepUpHint", true)}>
  <div class="buttons"><button type="submit">${t.text("console.stepUp.button")}</button> <a class="button secondary" href="${view.cancel}">${t.text("button.cancel")}</a></div>
</form>`;
  return supportPage(frame, heading, view.section, body);
}

/** The console's answer past a person's limit of changes (regulation/console-actions.ts). */
export function consoleLimitPage(frame: PortalFrame, text: string, section: SupportSection): SafeHtml {
  const { t } = frame;
  const body = html`<h1>${t.text("console.limit.heading")}</h1>
${message("error", text, "limit-error")}
<p><a href="/support">${t.text("error.backToConsole")}</a></p>`;
  return supportPage(frame, t.text("console.limit.heading"), section, body);
}
