import type { Config } from "../../config/config.ts";
import { MAX_LOGIN_ID_LENGTH, MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField, message, page } from "../layout.ts";
import { didYouMean, keepTypedField } from "./address-suggestion.ts";
import { codeForm, deliveryBlock, type CodeDelivery } from "./code-entry.ts";
import { otherWays, strongOtpBody, type SecondStepChoices } from "./strong-factor-pages.ts";

/** Screen 1: "Login ID", "Password", "Log in". */
export function loginPage(config: Readonly<Config>, v: { csrf: string; loginId?: string; error?: string; info?: string; returnTo?: string | null }): string {
  const body = html`<h1>Log in to FAMOS</h1>
${message("error", v.error)}${message("info", v.info)}
<form method="post" action="/login" novalidate>
  ${csrfField(v.csrf)}
  ${v.returnTo ? html`<input type="hidden" name="returnTo" value="${v.returnTo}">` : ""}
  <label for="loginId">Login ID</label>
  <input type="text" id="loginId" name="loginId" value="${v.loginId ?? ""}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="${MAX_LOGIN_ID_LENGTH}" required autofocus>
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required>
  <div class="buttons"><button type="submit">Log in</button></div>
</form>
<p><a href="/forgot-password">Forgot password?</a></p>
<p><a href="/wrong-email">Entered a wrong email?</a></p>`;
  return page({ title: "Log in", body, config });
}

/** Screen 2, "User profile": the guide's words, two address fields, Update and Cancel. */
export function enrolPage(
  config: Readonly<Config>,
  v: {
    csrf: string; email?: string; confirmEmail?: string; error?: string; askOwnMailbox?: boolean; suggestion?: string; ownMailbox?: boolean;
    /** Early enrolment from the portal (issue 12) posts elsewhere; "Later" is offered with what is left. */
    action?: string; cancelAction?: string; later?: { left: number; of: number } | null;
  },
): string {
  const typed = v.suggestion ? v.email : undefined;
  const body = html`<h1>User profile</h1>
<p>Please enter an email address that will be used to receive a one time passcode in order to access FAMOS</p>
${v.suggestion && typed
  ? didYouMean({ suggestion: v.suggestion, typed, button: "Update" }, { csrf: v.csrf, action: v.action ?? "/enrol", fields: ["email", "confirmEmail"], ownMailbox: v.ownMailbox ?? false })
  : message("error", v.error)}
<form method="post" action="${v.action ?? "/enrol"}" novalidate>
  ${csrfField(v.csrf)}
  ${keepTypedField(typed)}
  <label for="email">Email address</label>
  <input type="email" id="email" name="email" value="${v.email ?? ""}" autocomplete="email" maxlength="254" required>
  <label for="confirmEmail">Confirm email address</label>
  <input type="email" id="confirmEmail" name="confirmEmail" value="${v.confirmEmail ?? ""}" autocomplete="off" maxlength="254" required>
  <p class="advice">It is recommended that the email used to receive your one time passcode be your individually assigned work email address. Please do not use a shared group mailbox.</p>
  ${v.askOwnMailbox ? html`<p class="check"><input type="checkbox" id="ownMailbox" name="ownMailbox" value="yes"${v.ownMailbox ? html` checked` : ""}> <label for="ownMailbox">This is my own mailbox</label></p>` : ""}
  <div class="buttons">
    <button type="submit">Update</button>
    <button type="submit" class="secondary" formaction="${v.cancelAction ?? "/enrol/cancel"}" formnovalidate>Cancel</button>
    ${v.later ? html`<button type="submit" class="secondary" formaction="/enrol/later" formnovalidate>Later</button>` : ""}
  </div>
  ${v.later ? html`<p class="advice">Later lets you into FAMOS with your password alone this time: ${v.later.left} of ${v.later.of} left.</p>` : ""}
</form>
<p><a href="/wrong-email">Entered a wrong email?</a></p>`;
  return page({ title: "User profile", body, config });
}

export interface OtpView extends CodeDelivery {
  csrf: string;
  error?: string | SafeHtml;
  info?: string;
  /** Issue 13: the other factors the user has; `emailCode` false when the emailed code no longer signs in. */
  choices?: SecondStepChoices & { emailCode: boolean };
}

/** Screen 4, "OTP capture": the code field, Confirm, Cancel, Regenerate OTP, and where the code went. */
export function otpPage(config: Readonly<Config>, v: OtpView): string {
  if (v.choices && !v.choices.emailCode) {
    return page({ title: "OTP capture", body: html`<h1>OTP capture</h1>\n${strongOtpBody(v.csrf, v.choices, typeof v.error === "string" ? v.error : undefined)}`, config });
  }
  const body = html`<h1>OTP capture</h1>
${deliveryBlock(v, "/otp/delivery")}
${message("error", v.error)}${message("info", v.info)}
${codeForm(v.csrf, { confirm: "/otp", cancel: "/otp/cancel", regenerate: "/otp/regenerate" })}
${v.choices ? otherWays(v.choices) : ""}
<p><a href="/wrong-email">Entered a wrong email?</a></p>`;
  return page({ title: "OTP capture", body, config });
}

/** Screen 7: the reset process in words and a prepared mailto: link. */
export function wrongEmailPage(config: Readonly<Config>): string {
  // RFC 6068 §5: line breaks in a mailto: body are CRLF, percent-encoded as %0D%0A.
  const mailBody = "Name: \r\nFAMOS Log in ID: \r\nPartner number: \r\n";
  const href = `mailto:${config.supportEmail}?subject=${encodeURIComponent("OTP email reset")}&body=${encodeURIComponent(mailBody)}`;
  const body = html`<h1>Entered a wrong email?</h1>
<p>If you entered an incorrect email address by mistake, or you can no longer read the mailbox that
receives your one time passcodes, your retail IT team can reset it. After the reset, FAMOS asks you for
your email address again at your next log in.</p>
<p>Until you have confirmed a code sent to a new address, you can also simply log in again: an address
whose code was never confirmed is not kept, and FAMOS asks again.</p>
<p>Please email <a href="${href}">${config.supportEmail}</a> with the subject <strong>OTP email reset</strong> and:</p>
<ul>
  <li>Name: your full name</li>
  <li>FAMOS Log in ID: the login ID you use to access FAMOS</li>
  <li>Partner number: your partner number</li>
</ul>
<p><a href="${href}">Write the email now</a></p>
<p><a href="/">Back to FAMOS</a></p>`;
  return page({ title: "Entered a wrong email?", body, config });
}
