import { MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import { PASSWORD_MIN_LENGTH } from "../../password/policy.ts";
import { RECENT_CODE_WORDS } from "../../profile/reauthenticate.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField, message } from "../layout.ts";
import { didYouMean, keepTypedField } from "./address-suggestion.ts";
import { codeForm, deliveryBlock, type CodeDelivery } from "./code-entry.ts";
import { portalPage, profileFacts, type PortalFrame } from "./portal-pages.ts";

export interface ProfileView {
  info?: string;
  email?: { error?: string; newEmail?: string; confirmNewEmail?: string; askOwnMailbox?: boolean; suggestion?: string; ownMailbox?: boolean };
  passwordError?: string;
  /** No code confirmed in the last 15 minutes: the email form asks for the password too. */
  passwordNeeded: boolean;
  /** A change waiting for its code in this session: the new address, masked. */
  pendingTo: string | null;
  /** The "your sessions" part, from src/web/routes/profile-sessions.ts. */
  sessions: SafeHtml;
  /** Issue 13: the authenticator app and recovery codes part, from src/web/routes/strong-factors.ts. */
  factors?: SafeHtml;
}

/** Screen 6, the "Profile" tab: who the user is, the OTP email and password forms, their sessions. */
export function profilePage(frame: PortalFrame, v: ProfileView): string {
  const email = v.email ?? {};
  const body = html`<h1>Profile</h1>
${message("info", v.info)}
${profileFacts(frame.user)}
<section aria-labelledby="email-heading">
<h2 id="email-heading">Change the OTP email</h2>
${v.pendingTo ? html`<p class="delivery">A code was sent to <strong>${v.pendingTo}</strong>. <a href="/profile/email/confirm">Enter the code</a> to make it your OTP email.</p>` : ""}
<p>Your codes keep going to your current address until you confirm a code sent to the new one.</p>
${email.suggestion && email.newEmail
  ? didYouMean(
      { suggestion: email.suggestion, typed: email.newEmail, button: "Send code" },
      { csrf: frame.csrf, action: "/profile/email", fields: ["newEmail", "confirmNewEmail"], ownMailbox: email.ownMailbox ?? false },
    )
  : message("error", email.error)}
<form method="post" action="/profile/email" novalidate>
  ${csrfField(frame.csrf)}
  ${keepTypedField(email.suggestion ? email.newEmail : undefined)}
  <label for="newEmail">New email address</label>
  <input type="email" id="newEmail" name="newEmail" value="${email.newEmail ?? ""}" autocomplete="email" maxlength="254" required>
  <label for="confirmNewEmail">Confirm new email address</label>
  <input type="email" id="confirmNewEmail" name="confirmNewEmail" value="${email.confirmNewEmail ?? ""}" autocomplete="off" maxlength="254" required>
  <p class="advice">It is recommended that the email used to receive your one time passcode be your individually assigned work email address. Please do not use a shared group mailbox.</p>
  ${email.askOwnMailbox ? html`<p class="check"><input type="checkbox" id="ownMailbox" name="ownMailbox" value="yes"${email.ownMailbox ? html` checked` : ""}> <label for="ownMailbox">This is my own mailbox</label></p>` : ""}
  ${v.passwordNeeded
    ? html`<label for="emailPassword">Password</label>
  <p class="advice" id="emailPasswordHint">You have not confirmed a code in the last ${RECENT_CODE_WORDS}, so enter your password to change the address.</p>
  <input type="password" id="emailPassword" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" aria-describedby="emailPasswordHint" required>`
    : ""}
  <div class="buttons"><button type="submit">Send code</button></div>
</form>
</section>
<section aria-labelledby="password-heading">
<h2 id="password-heading">Change the password</h2>
${message("error", v.passwordError)}
<form method="post" action="/profile/password" novalidate>
  ${csrfField(frame.csrf)}
  <label for="currentPassword">Current password</label>
  <input type="password" id="currentPassword" name="currentPassword" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required>
  <label for="newPassword">New password</label>
  <p class="advice" id="newPasswordHint">At least ${PASSWORD_MIN_LENGTH} characters; any characters, spaces included. A few unrelated words make a good password. Very common passwords are refused.</p>
  <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" maxlength="${MAX_PASSWORD_LENGTH}" aria-describedby="newPasswordHint" required>
  <label for="confirmNewPassword">Confirm new password</label>
  <input type="password" id="confirmNewPassword" name="confirmNewPassword" autocomplete="new-password" maxlength="${MAX_PASSWORD_LENGTH}" required>
  <p class="advice">Changing the password signs out your other sessions.</p>
  <div class="buttons"><button type="submit">Change password</button></div>
</form>
</section>
${v.factors ?? ""}
${v.sessions}`;
  return portalPage(frame, "Profile", "/profile", body);
}

export interface EmailConfirmView extends CodeDelivery {
  error?: string | SafeHtml;
  info?: string;
}

/** The code step of an email change: the labels of "OTP capture", for the new address. */
export function emailConfirmPage(frame: PortalFrame, v: EmailConfirmView): string {
  const body = html`<h1>Confirm your new OTP email</h1>
${deliveryBlock(v, "/profile/email/confirm/delivery", "your new address ")}
<p>Your OTP email changes only when you confirm this code. Until then, sign-in codes keep going to your current address.</p>
${message("error", v.error)}${message("info", v.info)}
${codeForm(frame.csrf, { confirm: "/profile/email/confirm", cancel: "/profile/email/cancel", regenerate: "/profile/email/regenerate" })}
<p><a href="/profile">Back to Profile</a></p>`;
  return portalPage(frame, "Confirm your new OTP email", "/profile", body);
}
