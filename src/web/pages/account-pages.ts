import type { Config } from "../../config/config.ts";
import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField, message, page, refusedField } from "../layout.ts";
import { supportRequestBody } from "./signin-pages.ts";

/** Shared by "Choose a new password" and the self-service reset's last step. */
export function newPasswordFields(t: Translator, focus = true): ReturnType<typeof html> {
  return html`<label for="newPassword">${t.text("field.newPassword")}</label>
  <p class="advice" id="newPasswordHint">${t.text("account.newPasswordHint")}</p>
  <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" maxlength="1024" aria-describedby="newPasswordHint" required${focus ? html` autofocus` : ""}>
  <label for="confirmNewPassword">${t.text("field.confirmNewPassword")}</label>
  <input type="password" id="confirmNewPassword" name="confirmNewPassword" autocomplete="new-password" maxlength="1024" required>`;
}

/** After a temporary password and the code: the user's own password before anything else (issue 11). */
export function choosePasswordPage(t: Translator, config: Readonly<Config>, v: { csrf: string; error?: string }): SafeHtml {
  const body = html`<h1>${t.text("choosePassword.heading")}</h1>
<p>${t.text("choosePassword.intro")}</p>
${message("error", v.error)}
<form method="post" action="/choose-password" novalidate>
  ${csrfField(v.csrf)}
  ${newPasswordFields(t)}
  <div class="buttons"><button type="submit">${t.text("choosePassword.save")}</button></div>
</form>
<form method="post" action="/logout">${csrfField(v.csrf)}<div class="buttons"><button type="submit" class="secondary">${t.text("button.cancel")}</button></div></form>`;
  return page({ title: t.text("choosePassword.heading"), body, config, t });
}

/** "Forgot password?" with FAMOS_PASSWORD_RESET=support: how to reach retail IT. */
export function forgotPasswordSupportPage(t: Translator, config: Readonly<Config>): SafeHtml {
  const subject = t.text("forgot.subject");
  const href = `mailto:${config.supportEmail}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(supportRequestBody(t))}`;
  const body = html`<h1>${t.text("login.forgotPassword")}</h1>
<p>${t.text("forgot.supportIntro")}</p>
<p>${t.html("forgot.supportWrite", { link: html`<a href="${href}">${config.supportEmail}</a>`, subject })}</p>
<p><a href="/login">${t.text("link.backToLogin")}</a></p>`;
  return page({ title: t.text("login.forgotPassword"), body, config, t });
}

/** "Forgot password?" with FAMOS_PASSWORD_RESET=self, step 1: the login ID. */
export function forgotPasswordPage(t: Translator, config: Readonly<Config>, v: { csrf: string; error?: string; info?: string }): SafeHtml {
  const body = html`<h1>${t.text("login.forgotPassword")}</h1>
<p>${t.text("forgot.selfIntro")}</p>
${message("error", v.error, "loginId-error")}${message("info", v.info)}
<form method="post" action="/forgot-password" novalidate>
  ${csrfField(v.csrf)}
  <label for="loginId">${t.text("field.loginId")}</label>
  <input type="text" id="loginId" name="loginId" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="128" required${v.error ? refusedField("loginId-error", true) : html` autofocus`}>
  <div class="buttons"><button type="submit">${t.text("profile.sendCode")}</button></div>
</form>
<p><a href="/login">${t.text("link.backToLogin")}</a></p>`;
  return page({ title: t.text("login.forgotPassword"), body, config, t });
}

/** Step 2: the code and the new password twice, on one form. The page is the same for every login ID. */
export function resetPasswordPage(t: Translator, config: Readonly<Config>, v: { csrf: string; validFor: string; error?: string; info?: string; code?: string }): SafeHtml {
  const body = html`<h1>${t.text("reset.heading")}</h1>
<p>${t.text("reset.intro", { validFor: v.validFor })}</p>
${message("error", v.error)}${message("info", v.info)}
<form method="post" action="/forgot-password/code" novalidate>
  ${csrfField(v.csrf)}
  <label for="code">${t.text("code.label")}</label>
  <input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="64" required${v.code ? html` value="${v.code}"` : html` autofocus`}>
  ${newPasswordFields(t, Boolean(v.code))}
  <div class="buttons"><button type="submit">${t.text("reset.submit")}</button></div>
</form>
<p>${t.html("reset.noCode", { support: config.supportEmail })}</p>`;
  return page({ title: t.text("reset.heading"), body, config, t });
}
