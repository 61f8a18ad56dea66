import type { Config } from "../../config/config.ts";
import { html } from "../../platform/html.ts";
import { csrfField, message, page } from "../layout.ts";

/** Shared by "Choose a new password" and the self-service reset's last step. */
export function newPasswordFields(): ReturnType<typeof html> {
  return html`<label for="newPassword">New password</label>
  <p class="advice" id="newPasswordHint">At least 12 characters; any characters, spaces included. Avoid a password you use elsewhere.</p>
  <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" maxlength="1024" aria-describedby="newPasswordHint" required autofocus>
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
