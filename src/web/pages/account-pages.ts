import type { Config } from "../../config/config.ts";
import { html } from "../../platform/html.ts";
import { csrfField, message, page } from "../layout.ts";

/** Shared by "Choose a new password" and the self-service reset's last step. */
export function newPasswordFields(focus = true): ReturnType<typeof html> {
  return html`<label for="newPassword">New password</label>
  <p class="advice" id="newPasswordHint">At least 12 characters; any characters, spaces included. Avoid a password you use elsewhere.</p>
  <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" maxlength="1024" aria-describedby="newPasswordHint" required${focus ? html` autofocus` : ""}>
  <label for="confirmNewPassword">Confirm new password</label>
  <input type="password" id="confirmNewPassword" name="confirmNewPassword" autocomplete="new-password" maxlength="1024" required>`;
}

/** After a temporary password and the code: the user's own password before anything else (issue 11). */
export function choosePasswordPage(config: Readonly<Config>, v: { csrf: string; error?: string }): string {
  const body = html`<h1>Choose a new password</h1>
<p>You signed in with a temporary password from your retail IT team. Choose your own password to go on to FAMOS.</p>
${message("error", v.error)}
<form method="post" action="/choose-password" novalidate>
  ${csrfField(v.csrf)}
  ${newPasswordFields()}
  <div class="buttons"><button type="submit">Save password</button></div>
</form>
<form method="post" action="/logout">${csrfField(v.csrf)}<div class="buttons"><button type="submit" class="secondary">Cancel</button></div></form>`;
  return page({ title: "Choose a new password", body, config });
}

/** "Forgot password?" with FAMOS_PASSWORD_RESET=support: how to reach retail IT. */
export function forgotPasswordSupportPage(config: Readonly<Config>): string {
  const mailBody = "Name: \r\nFAMOS Log in ID: \r\nPartner number: \r\n";
  const href = `mailto:${config.supportEmail}?subject=${encodeURIComponent("Password reset")}&body=${encodeURIComponent(mailBody)}`;
  const body = html`<h1>Forgot password?</h1>
<p>Your retail IT team can set a temporary password for you. With it and a code sent to your OTP email you log in once, and then choose a new password.</p>
<p>Please email <a href="${href}">${config.supportEmail}</a> with the subject <strong>Password reset</strong> and your name, FAMOS Log in ID and partner number.</p>
<p><a href="/login">Back to Log in</a></p>`;
  return page({ title: "Forgot password?", body, config });
}

/** "Forgot password?" with FAMOS_PASSWORD_RESET=self, step 1: the login ID. */
export function forgotPasswordPage(config: Readonly<Config>, v: { csrf: string }): string {
  const body = html`<h1>Forgot password?</h1>
<p>Enter your login ID. If it has a confirmed OTP email, a code is sent there; with it you choose a new password.</p>
<form method="post" action="/forgot-password" novalidate>
  ${csrfField(v.csrf)}
  <label for="loginId">Login ID</label>
  <input type="text" id="loginId" name="loginId" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="128" required autofocus>
  <div class="buttons"><button type="submit">Send code</button></div>
</form>
<p><a href="/login">Back to Log in</a></p>`;
  return page({ title: "Forgot password?", body, config });
}

/** Step 2: the code and the new password twice, on one form. The page is the same for every login ID. */
export function resetPasswordPage(config: Readonly<Config>, v: { csrf: string; validFor: string; error?: string }): string {
  const body = html`<h1>Reset your password</h1>
<p>If the login ID has a confirmed OTP email, a code is on its way to it; it is valid for ${v.validFor}.</p>
${message("error", v.error)}
<form method="post" action="/forgot-password/code" novalidate>
  ${csrfField(v.csrf)}
  <label for="code">Please enter the received code</label>
  <input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="64" required autofocus>
  ${newPasswordFields(false)}
  <div class="buttons"><button type="submit">Reset password</button></div>
</form>
<p>No code? <a href="/forgot-password">Start again</a> or ask your retail IT team at ${config.supportEmail}.</p>`;
  return page({ title: "Reset your password", body, config });
}
