import type { Config } from "../../config/config.ts";
import { MAX_LOGIN_ID_LENGTH, MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField, message, page, refusedField } from "../layout.ts";
import { languageSwitch } from "../locale.ts";
import { didYouMean, keepTypedField, useSuggestionButton } from "./address-suggestion.ts";
import { codeForm, codeProblem, deliveryBlock, type CodeDelivery } from "./code-entry.ts";
import { otherWays, strongOtpBody, type SecondStepChoices } from "./strong-factor-pages.ts";

/** Screen 1: "Login ID", "Password", "Log in", and the language switch (issue 16). */
export function loginPage(t: Translator, config: Readonly<Config>, v: { csrf: string; loginId?: string; error?: string; info?: string; returnTo?: string | null }): SafeHtml {
  // A refused Log in keeps the login ID and never sends the password back: the cursor goes where typing
  // must start again, the password, described by the reason (WCAG 3.3.1); an empty login ID keeps it first.
  const retypePassword = Boolean(v.error && v.loginId);
  const body = html`<h1>${t.text("login.heading")}</h1>
${message("error", v.error, "login-error")}${message("info", v.info)}
<form method="post" action="/login" novalidate>
  ${csrfField(v.csrf)}
  ${v.returnTo ? html`<input type="hidden" name="returnTo" value="${v.returnTo}">` : ""}
  <label for="loginId">${t.text("field.loginId")}</label>
  <input type="text" id="loginId" name="loginId" value="${v.loginId ?? ""}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="${MAX_LOGIN_ID_LENGTH}" required${retypePassword ? "" : html` autofocus`}>
  <label for="password">${t.text("field.password")}</label>
  <input type="password" id="password" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required${refusedField("login-error", retypePassword)}>
  <div class="buttons"><button type="submit">${t.text("login.submit")}</button></div>
</form>
<p><a href="/forgot-password">${t.text("login.forgotPassword")}</a></p>
<p><a href="/wrong-email">${t.text("wrongEmail.link")}</a></p>
${languageSwitch(t, v.returnTo)}`;
  return page({ title: t.text("login.title"), body, config, t });
}

/** Screen 2, "User profile": the guide's words, two address fields, Update and Cancel. */
export function enrolPage(
  t: Translator,
  config: Readonly<Config>,
  v: {
    csrf: string; email?: string; confirmEmail?: string; error?: string; askOwnMailbox?: boolean; suggestion?: string; ownMailbox?: boolean;
    /** The address the person chose to keep after "Did you mean …?", kept through a refused password. */
    keepTyped?: string | undefined;
    /** Early enrolment from the portal (issue 12) posts elsewhere; "Later" is offered with what is left. */
    action?: string; cancelAction?: string; later?: { left: number; of: number } | null;
    /**
     * Early enrolment's password field, as Profile's address form has it (requireFreshProof): shown when no
     * code was confirmed in the session lately; `refused`: the error above is about it.
     */
    password?: { refused: boolean };
  },
): SafeHtml {
  const typed = v.suggestion ? v.email : undefined;
  const passwordRefused = v.password?.refused === true && v.error !== undefined;
  // The cursor starts in "Email address", as in "Login ID" and the code field; "Did you mean …?" keeps it; a refused password takes it.
  const cursor = typed || passwordRefused ? html`` : v.error ? refusedField("enrol-error", true) : html` autofocus`;
  const body = html`<h1>${t.text("enrol.heading")}</h1>
<p>${t.text("enrol.intro")}</p>
${v.suggestion && typed
  ? didYouMean(
      t,
      { suggestion: v.suggestion, typed, button: t.text("enrol.update") },
      { csrf: v.csrf, action: v.action ?? "/enrol", fields: ["email", "confirmEmail"], ownMailbox: v.ownMailbox ?? false, passwordForm: v.password ? "enrol-form" : undefined },
    )
  : message("error", v.error, "enrol-error")}
<form method="post" action="${v.action ?? "/enrol"}" id="enrol-form" novalidate>
  ${csrfField(v.csrf)}
  ${keepTypedField(typed ?? v.keepTyped)}
  <label for="email">${t.text("field.email")}</label>
  <input type="email" id="email" name="email" value="${v.email ?? ""}" autocomplete="email" maxlength="254" required${cursor}>
  <label for="confirmEmail">${t.text("field.confirmEmail")}</label>
  <input type="email" id="confirmEmail" name="confirmEmail" value="${v.confirmEmail ?? ""}" autocomplete="off" maxlength="254" required>
  <p class="advice">${t.text("enrol.advice")}</p>
  ${v.askOwnMailbox ? html`<p class="check"><input type="checkbox" id="ownMailbox" name="ownMailbox" value="yes"${v.ownMailbox ? html` checked` : ""}> <label for="ownMailbox">${t.text("field.ownMailbox")}</label></p>` : ""}
  ${v.password
    ? html`<label for="enrolPassword">${t.text("field.password")}</label>
  <p class="advice" id="enrolPasswordHint">${t.text("rollout.enrolPasswordHint")}</p>
  <input type="password" id="enrolPassword" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required${refusedField("enrol-error", passwordRefused, "enrolPasswordHint")}>`
    : ""}
  <div class="buttons">
    <button type="submit">${t.text("enrol.update")}</button>
    ${v.password ? useSuggestionButton(t, typed && v.suggestion, "enrol-form") : ""}
    <button type="submit" class="secondary" formaction="${v.cancelAction ?? "/enrol/cancel"}" formnovalidate>${t.text("button.cancel")}</button>
    ${v.later ? html`<button type="submit" class="secondary" formaction="/enrol/later" formnovalidate>${t.text("enrol.later")}</button>` : ""}
  </div>
  ${v.later ? html`<p class="advice">${t.text("enrol.laterAdvice", { left: v.later.left, of: v.later.of })}</p>` : ""}
</form>
<p><a href="/wrong-email">${t.text("wrongEmail.link")}</a></p>`;
  return page({ title: t.text("enrol.heading"), body, config, t });
}

export interface OtpView extends CodeDelivery {
  csrf: string;
  error?: string | SafeHtml;
  info?: string;
  /** Issue 13: the other factors the user has; `emailCode` false when the emailed code no longer signs in. */
  choices?: SecondStepChoices & { emailCode: boolean };
}

/** Screen 4, "OTP capture": the code field, Confirm, Cancel, Regenerate OTP, and where the code went. */
export function otpPage(t: Translator, config: Readonly<Config>, v: OtpView): SafeHtml {
  if (v.choices && !v.choices.emailCode) {
    return page({ title: t.text("otp.heading"), body: html`<h1>${t.text("otp.heading")}</h1>\n${strongOtpBody(t, v.csrf, v.choices, typeof v.error === "string" ? v.error : undefined)}`, config, t });
  }
  const body = html`<h1>${t.text("otp.heading")}</h1>
${deliveryBlock(t, v, "/otp/delivery")}
${message("info", v.info)}
${codeForm(t, v.csrf, { confirm: "/otp", cancel: "/otp/cancel", regenerate: "/otp/regenerate" }, codeProblem(t, v, v.error), v.noMoreCodes ?? null)}
${v.choices ? otherWays(t, v.choices) : ""}
<p><a href="/wrong-email">${t.text("wrongEmail.link")}</a></p>`;
  return page({ title: t.text("otp.heading"), body, config, t });
}

/** The body of a request mail to support: the three facts it needs, each on its own line. */
export function supportRequestBody(t: Translator): string {
  // RFC 6068 §5: line breaks in a mailto: body are CRLF, percent-encoded as %0D%0A.
  return `${t.text("wrongEmail.mailName")} \r\n${t.text("wrongEmail.mailLoginId")} \r\n${t.text("wrongEmail.mailPartner")} \r\n`;
}

/** Screen 7: the reset process in words and a prepared mailto: link. */
export function wrongEmailPage(t: Translator, config: Readonly<Config>): SafeHtml {
  const subject = t.text("wrongEmail.subject");
  const href = `mailto:${config.supportEmail}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(supportRequestBody(t))}`;
  const body = html`<h1>${t.text("wrongEmail.heading")}</h1>
<p>${t.text("wrongEmail.p1")}</p>
<p>${t.text("wrongEmail.p2")}</p>
<p>${t.html("wrongEmail.p3", { link: html`<a href="${href}">${config.supportEmail}</a>`, subject })}</p>
<ul>
  <li>${t.text("wrongEmail.itemName")}</li>
  <li>${t.text("wrongEmail.itemLoginId")}</li>
  <li>${t.text("wrongEmail.itemPartner")}</li>
</ul>
<p><a href="${href}">${t.text("wrongEmail.write")}</a></p>
<p><a href="/">${t.text("link.backToFamos")}</a></p>`;
  return page({ title: t.text("wrongEmail.heading"), body, config, t });
}
