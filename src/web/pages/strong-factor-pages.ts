import type { Config } from "../../config/config.ts";
import type { Translator } from "../../i18n/translator.ts";
import { MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import { formatDateTime } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { RECENT_CODE_WORDS } from "../../profile/reauthenticate.ts";
import type { FactorSummary } from "../../strong-factors/factors.ts";
import { csrfField, message, page } from "../layout.ts";
import { portalPage, type PortalFrame } from "./portal-pages.ts";

/** What OTP capture offers besides (or, for FAMOS_STRONG_FACTOR_ROLES, instead of) the emailed code. */
export interface SecondStepChoices {
  app: boolean;
  recovery: boolean;
  /** The passkey option, when the user has one (wired in by the passkeys module). */
  passkey?: SafeHtml;
}

/** The links under OTP capture's code form: "Use authenticator app", "Use a recovery code". */
export function otherWays(choices: SecondStepChoices): SafeHtml {
  if (!choices.app && !choices.recovery && !choices.passkey) return html``;
  return html`<nav aria-label="Other ways to sign in" class="other-ways"><ul>
${choices.passkey ? html`<li>${choices.passkey}</li>` : ""}
${choices.app ? html`<li><a href="/otp/app">Use authenticator app</a></li>` : ""}
${choices.recovery ? html`<li><a href="/otp/recovery">Use a recovery code</a></li>` : ""}
</ul></nav>`;
}

/** OTP capture for a user whose emailed code no longer signs in: the stronger factors and Cancel, no code field. */
export function strongOtpBody(csrf: string, choices: SecondStepChoices, error?: string): SafeHtml {
  return html`<p>Your account signs in with your authenticator app or a passkey. No code is emailed.</p>
${message("error", error)}
${otherWays(choices)}
<form method="post" action="/otp/cancel">${csrfField(csrf)}<div class="buttons"><button type="submit" class="secondary">Cancel</button></div></form>`;
}

interface CodeView {
  csrf: string;
  error?: string;
}

/** OTP capture → "Use authenticator app": the 6-digit code the app shows now. */
export function appCodePage(t: Translator, config: Readonly<Config>, v: CodeView): string {
  const body = html`<h1>Use authenticator app</h1>
<p>Open the authenticator app on your phone and type the 6-digit code it shows for FAMOS.</p>
${message("error", v.error)}
<form method="post" action="/otp/app" novalidate>
  ${csrfField(v.csrf)}
  <label for="appCode">Code from the app</label>
  <input type="text" id="appCode" name="code" class="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" maxlength="12" required autofocus>
  <div class="buttons"><button type="submit">Confirm</button></div>
</form>
<p><a href="/otp">Back to the other ways to sign in</a></p>`;
  return page({ title: "Use authenticator app", body, config, t });
}

/** OTP capture → "Use a recovery code". */
export function recoveryCodePage(t: Translator, config: Readonly<Config>, v: CodeView): string {
  const body = html`<h1>Use a recovery code</h1>
<p>Type one of the recovery codes you kept when you set up your authenticator app or passkey. Each code works once.</p>
${message("error", v.error)}
<form method="post" action="/otp/recovery" novalidate>
  ${csrfField(v.csrf)}
  <label for="recoveryCode">Recovery code</label>
  <input type="text" id="recoveryCode" name="code" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="32" required autofocus>
  <div class="buttons"><button type="submit">Confirm</button></div>
</form>
<p><a href="/otp">Back to the other ways to sign in</a></p>`;
  return page({ title: "Use a recovery code", body, config, t });
}

const signOutForm = (csrf: string) => html`<form method="post" action="/logout">${csrfField(csrf)}<div class="buttons"><button type="submit" class="secondary">Sign out</button></div></form>`;

/**
 * The screen a user of FAMOS_STRONG_FACTOR_ROLES without a strong factor reaches after the emailed
 * code: set up an app or add a passkey, or sign out. `passkey` is the passkey option's slot.
 */
export function factorSetupPage(t: Translator, config: Readonly<Config>, v: { csrf: string; passkey?: SafeHtml; error?: string }): string {
  const body = html`<h1>Set up a stronger sign-in</h1>
<p>Your role in FAMOS lets you change other people's accounts, so an emailed code is not enough to sign in. Set up an authenticator app or add a passkey now; from your next sign-in FAMOS asks for it instead of an emailed code.</p>
${message("error", v.error)}
<ul class="choices">
  <li><a href="/factor-setup/app">Set up authenticator app</a></li>
  ${v.passkey ? html`<li>${v.passkey}</li>` : ""}
</ul>
${signOutForm(v.csrf)}`;
  return page({ title: "Set up a stronger sign-in", body, config, t });
}

export interface AppSetupView {
  csrf: string;
  /** The QR code, an SVG drawn on the server. */
  qrSvg: string;
  secret: string;
  /** Where the confirming code goes: the setup screen's or Profile's route. */
  action: string;
  error?: string;
}

/** The QR code, the secret as text, and the one code that confirms it. */
function appSetupBody(v: AppSetupView, back: SafeHtml): SafeHtml {
  const grouped = v.secret.replace(/(.{4})/g, "$1 ").trim();
  return html`<h1>Set up authenticator app</h1>
<ol>
  <li>Open an authenticator app on your phone (Microsoft Authenticator, Google Authenticator, or any app for “time-based” codes) and add an account.</li>
  <li>Scan this QR code, or type the key below.</li>
  <li>Type the 6-digit code the app shows, to confirm that it works.</li>
</ol>
<p><img class="qr" src="data:image/svg+xml;base64,${Buffer.from(v.qrSvg).toString("base64")}" alt="QR code for your authenticator app; if you cannot scan it, type the key shown below it" width="200" height="200"></p>
<p>Key: <code class="secret">${grouped}</code> (time-based, 6 digits)</p>
${message("error", v.error)}
<form method="post" action="${v.action}" novalidate>
  ${csrfField(v.csrf)}
  <label for="setupCode">Code from the app</label>
  <input type="text" id="setupCode" name="code" class="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" maxlength="12" required>
  <div class="buttons"><button type="submit">Confirm</button></div>
</form>
${back}`;
}

export function appSetupPageForSetup(t: Translator, config: Readonly<Config>, v: AppSetupView): string {
  const body = html`${appSetupBody(v, html`<p><a href="/factor-setup">Back</a></p>`)}${signOutForm(v.csrf)}`;
  return page({ title: "Set up authenticator app", body, config, t });
}

export function appSetupPageForProfile(frame: PortalFrame, v: AppSetupView): string {
  return portalPage(frame, "Set up authenticator app", "/profile", appSetupBody(v, html`<p><a href="/profile">Back to Profile</a></p>`));
}

/** After setup or on request: the new recovery codes, shown once, and where to go on. */
export function recoveryCodesPage(t: Translator, config: Readonly<Config>, v: { info: string; codes: SafeHtml; next: string; frame?: PortalFrame }): string {
  const body = html`<h1>Save your recovery codes</h1>
${message("info", v.info)}
${v.codes}
<p><a class="button" href="${v.next}">I have kept my recovery codes</a></p>`;
  return v.frame ? portalPage(v.frame, "Your recovery codes", "/profile", body) : page({ title: "Your recovery codes", body, config, t });
}

/** The password field a factor change asks for when no code was confirmed in the last 15 minutes. */
function passwordField(id: string, needed: boolean): SafeHtml {
  if (!needed) return html``;
  return html`<label for="${id}">Password</label>
  <p class="advice" id="${id}Hint">You have not confirmed a code in the last ${RECENT_CODE_WORDS}, so enter your password.</p>
  <input type="password" id="${id}" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" aria-describedby="${id}Hint" required>`;
}

/** Profile's "Sign-in factors" section: the app (set up, remove), recovery codes (how many, a new set). */
export function factorsSection(v: { csrf: string; factors: FactorSummary; passwordNeeded: boolean; timezone: string; error?: string; info?: string }): SafeHtml {
  const { factors: f, csrf, timezone } = v;
  const when = (at: number | null) => (at === null ? "never" : formatDateTime(at, timezone));
  const app = f.app
    ? html`<p>Authenticator app: set up ${formatDateTime(f.app.confirmedAt, timezone)}, last used ${when(f.app.lastUsedAt)}.</p>
<form method="post" action="/profile/app/remove" novalidate>${csrfField(csrf)}${passwordField("removeAppPassword", v.passwordNeeded)}<div class="buttons"><button type="submit" class="secondary">Remove authenticator app</button></div></form>`
    : html`${f.appPending ? html`<p>An authenticator app is waiting for its first code. <a href="/profile/app">Continue the setup</a></p>
<form method="post" action="/profile/app/remove" novalidate>${csrfField(csrf)}${passwordField("cancelAppPassword", v.passwordNeeded)}<div class="buttons"><button type="submit" class="secondary">Cancel the setup</button></div></form>` : html`<p>No authenticator app.</p>`}
<form method="post" action="/profile/app" novalidate>${csrfField(csrf)}${passwordField("appPassword", v.passwordNeeded)}<div class="buttons"><button type="submit">Set up authenticator app</button></div></form>`;
  const strong = f.app !== null || f.passkeys > 0;
  const recovery = strong
    ? html`<p>Recovery codes left: ${f.recoveryCodesLeft} of 10${f.recoveryCodesLastUsedAt ? html` (one last used ${when(f.recoveryCodesLastUsedAt)})` : ""}.</p>
<form method="post" action="/profile/recovery-codes" novalidate>${csrfField(csrf)}${passwordField("recoveryPassword", v.passwordNeeded)}<div class="buttons"><button type="submit" class="secondary">Generate new recovery codes</button></div></form>`
    : html``;
  return html`<section aria-labelledby="factors-heading" id="factors">
<h2 id="factors-heading">Authenticator app and recovery codes</h2>
${message("info", v.info)}${message("error", v.error)}
${app}
${recovery}
</section>`;
}
