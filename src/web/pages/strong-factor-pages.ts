import type { Config } from "../../config/config.ts";
import type { Translator } from "../../i18n/translator.ts";
import { MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { RECENT_CODE_MS } from "../../profile/reauthenticate.ts";
import type { FactorSummary } from "../../strong-factors/factors.ts";
import { formatRecoveryCode } from "../../strong-factors/recovery-codes.ts";
import { csrfField, message, refusedField, page } from "../layout.ts";
import { portalPage, type PortalFrame } from "./portal-pages.ts";

/** What OTP capture offers besides (or, for FAMOS_STRONG_FACTOR_ROLES, instead of) the emailed code. */
export interface SecondStepChoices {
  app: boolean;
  recovery: boolean;
  /** The passkey option, when the user has one (wired in by the passkeys module). */
  passkey?: SafeHtml;
}

/** The links under OTP capture's code form: "Use authenticator app", "Use a recovery code". */
export function otherWays(t: Translator, choices: SecondStepChoices): SafeHtml {
  if (!choices.app && !choices.recovery && !choices.passkey) return html``;
  return html`<nav aria-label="${t.text("strong.otherWays")}" class="other-ways"><ul>
${choices.passkey ? html`<li>${choices.passkey}</li>` : ""}
${choices.app ? html`<li><a href="/otp/app">${t.text("strong.useApp")}</a></li>` : ""}
${choices.recovery ? html`<li><a href="/otp/recovery">${t.text("strong.useRecovery")}</a></li>` : ""}
</ul></nav>`;
}

/** OTP capture for a user whose emailed code no longer signs in: the stronger factors and Cancel, no code field. */
export function strongOtpBody(t: Translator, csrf: string, choices: SecondStepChoices, error?: string): SafeHtml {
  return html`<p>${t.text("strong.strongOnly")}</p>
${message("error", said(t, error))}
${otherWays(t, choices)}
<form method="post" action="/otp/cancel">${csrfField(csrf)}<div class="buttons"><button type="submit" class="secondary">${t.text("button.cancel")}</button></div></form>`;
}

/** A message the domain says in English, in the reader's language. */
const said = (t: Translator, text: string | undefined) => (text === undefined ? undefined : t.said(text));

/**
 * A code refused (wrong, used, locked): the reason, and its field's state, marked invalid and read with
 * it (refusedField, WCAG 3.3.1), as OTP capture's code field; else the field as the page has it.
 */
function codeRefusal(t: Translator, error: string | undefined, cursor: boolean): { alert: SafeHtml; field: SafeHtml } {
  if (error === undefined) return { alert: html``, field: cursor ? html` autofocus` : html`` };
  return { alert: message("error", said(t, error), "code-error"), field: refusedField("code-error", true) };
}

interface CodeView {
  csrf: string;
  error?: string;
}

/** OTP capture → "Use authenticator app": the 6-digit code the app shows now. */
export function appCodePage(t: Translator, config: Readonly<Config>, v: CodeView): SafeHtml {
  const refusal = codeRefusal(t, v.error, true);
  const body = html`<h1>${t.text("strong.useApp")}</h1>
<p>${t.text("strong.appCode.intro")}</p>
${refusal.alert}
<form method="post" action="/otp/app" novalidate>
  ${csrfField(v.csrf)}
  <label for="appCode">${t.text("strong.codeFromApp")}</label>
  <input type="text" id="appCode" name="code" class="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" maxlength="12" required${refusal.field}>
  <div class="buttons"><button type="submit">${t.text("code.confirm")}</button></div>
</form>
<p><a href="/otp">${t.text("strong.backToOtherWays")}</a></p>`;
  return page({ title: t.text("strong.useApp"), body, config, t });
}

/** OTP capture → "Use a recovery code". */
export function recoveryCodePage(t: Translator, config: Readonly<Config>, v: CodeView): SafeHtml {
  const refusal = codeRefusal(t, v.error, true);
  const body = html`<h1>${t.text("strong.useRecovery")}</h1>
<p>${t.text("strong.recovery.intro")}</p>
${refusal.alert}
<form method="post" action="/otp/recovery" novalidate>
  ${csrfField(v.csrf)}
  <label for="recoveryCode">${t.text("strong.recoveryCode")}</label>
  <input type="text" id="recoveryCode" name="code" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="32" required${refusal.field}>
  <div class="buttons"><button type="submit">${t.text("code.confirm")}</button></div>
</form>
<p><a href="/otp">${t.text("strong.backToOtherWays")}</a></p>`;
  return page({ title: t.text("strong.useRecovery"), body, config, t });
}

const signOutForm = (t: Translator, csrf: string) => html`<form method="post" action="/logout">${csrfField(csrf)}<div class="buttons"><button type="submit" class="secondary">${t.text("layout.signOut")}</button></div></form>`;

/**
 * The screen a user of FAMOS_STRONG_FACTOR_ROLES without a strong factor reaches after the emailed
 * code: set up an app or add a passkey, or sign out. `passkey` is the passkey option's slot. The app's
 * setup starts with a form (a POST with its CSRF token), never with a link: a GET must not start it.
 */
export function factorSetupPage(t: Translator, config: Readonly<Config>, v: { csrf: string; passkey?: SafeHtml; error?: string }): SafeHtml {
  const body = html`<h1>${t.text("strong.setup.heading")}</h1>
<p>${t.text("strong.setup.intro")}</p>
${message("error", said(t, v.error))}
<ul class="choices">
  <li><form method="post" action="/factor-setup/app">${csrfField(v.csrf)}<button type="submit">${t.text("strong.setupApp")}</button></form></li>
  ${v.passkey ? html`<li>${v.passkey}</li>` : ""}
</ul>
${signOutForm(t, v.csrf)}`;
  return page({ title: t.text("strong.setup.heading"), body, config, t });
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
function appSetupBody(t: Translator, v: AppSetupView, back: SafeHtml): SafeHtml {
  const grouped = v.secret.replace(/(.{4})/g, "$1 ").trim();
  const refusal = codeRefusal(t, v.error, false);
  return html`<h1>${t.text("strong.setupApp")}</h1>
<ol>
  <li>${t.text("strong.appSetup.step1")}</li>
  <li>${t.text("strong.appSetup.step2")}</li>
  <li>${t.text("strong.appSetup.step3")}</li>
</ol>
<p><img class="qr" src="data:image/svg+xml;base64,${Buffer.from(v.qrSvg).toString("base64")}" alt="${t.text("strong.appSetup.qrAlt")}" width="200" height="200"></p>
<p>${t.html("strong.appSetup.key", { key: grouped })}</p>
${refusal.alert}
<form method="post" action="${v.action}" novalidate>
  ${csrfField(v.csrf)}
  <label for="setupCode">${t.text("strong.codeFromApp")}</label>
  <input type="text" id="setupCode" name="code" class="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" maxlength="12" required${refusal.field}>
  <div class="buttons"><button type="submit">${t.text("code.confirm")}</button></div>
</form>
${back}`;
}

export function appSetupPageForSetup(t: Translator, config: Readonly<Config>, v: AppSetupView): SafeHtml {
  const body = html`${appSetupBody(t, v, html`<p><a href="/factor-setup">${t.text("strong.back")}</a></p>`)}${signOutForm(t, v.csrf)}`;
  return page({ title: t.text("strong.setupApp"), body, config, t });
}

export function appSetupPageForProfile(frame: PortalFrame, v: AppSetupView): SafeHtml {
  const { t } = frame;
  return portalPage(frame, t.text("strong.setupApp"), "/profile", appSetupBody(t, v, html`<p><a href="/profile">${t.text("link.backToProfile")}</a></p>`));
}

/** After setup or on request: the new recovery codes, shown once, and where to go on. */
/** The codes as a list to copy or print, said to be shown once. */
function recoveryCodesList(t: Translator, codes: string[]): SafeHtml {
  return html`<section aria-labelledby="recovery-heading" class="recovery-codes">
<h2 id="recovery-heading">${t.text("strong.codes.title")}</h2>
<p>${t.html("strong.codes.intro")}</p>
<ul class="codes">${codes.map((c) => html`<li><code>${formatRecoveryCode(c)}</code></li>`)}</ul>
</section>`;
}

export function recoveryCodesPage(t: Translator, config: Readonly<Config>, v: { info: string; codes: string[]; next: string; frame?: PortalFrame }): SafeHtml {
  const body = html`<h1>${t.text("strong.codes.heading")}</h1>
${message("info", t.said(v.info))}
${recoveryCodesList(t, v.codes)}
<p><a class="button" href="${v.next}">${t.text("strong.codes.kept")}</a></p>`;
  return v.frame ? portalPage(v.frame, t.text("strong.codes.title"), "/profile", body) : page({ title: t.text("strong.codes.title"), body, config, t });
}

/** The password field a factor change asks for when no code was confirmed in the last 15 minutes. */
function passwordField(t: Translator, id: string, needed: boolean): SafeHtml {
  if (!needed) return html``;
  return html`<label for="${id}">${t.text("field.password")}</label>
  <p class="advice" id="${id}Hint">${t.text("strong.passwordHint", { recent: t.duration(RECENT_CODE_MS) })}</p>
  <input type="password" id="${id}" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" aria-describedby="${id}Hint" required>`;
}

/** Profile's "Sign-in factors" section: the app (set up, remove), recovery codes (how many, a new set). */
export function factorsSection(t: Translator, v: { csrf: string; factors: FactorSummary; setupHere: boolean; passwordNeeded: boolean; error?: string; info?: string }): SafeHtml {
  const { factors: f, csrf } = v;
  const when = (at: number | null) => (at === null ? t.text("strong.never") : t.dateTime(at));
  const app = f.app
    ? html`<p>${t.text("strong.factors.app", { setUp: t.dateTime(f.app.confirmedAt), lastUsed: when(f.app.lastUsedAt) })}</p>
<form method="post" action="/profile/app/remove" novalidate>${csrfField(csrf)}${passwordField(t, "removeAppPassword", v.passwordNeeded)}<div class="buttons"><button type="submit" class="secondary">${t.text("strong.factors.removeApp")}</button></div></form>`
    : html`${f.appPending ? html`<p>${t.text("strong.factors.pending")}${v.setupHere ? html` <a href="/profile/app">${t.text("strong.factors.continue")}</a>` : ""}</p>
<form method="post" action="/profile/app/remove" novalidate>${csrfField(csrf)}${passwordField(t, "cancelAppPassword", v.passwordNeeded)}<div class="buttons"><button type="submit" class="secondary">${t.text("strong.factors.cancelSetup")}</button></div></form>` : html`<p>${t.text("strong.factors.noApp")}</p>`}
<form method="post" action="/profile/app" novalidate>${csrfField(csrf)}${passwordField(t, "appPassword", v.passwordNeeded)}<div class="buttons"><button type="submit">${t.text("strong.setupApp")}</button></div></form>`;
  const strong = f.app !== null || f.passkeys > 0;
  const recovery = strong
    ? html`<p>${f.recoveryCodesLastUsedAt ? t.text("strong.factors.codesLeftUsed", { count: f.recoveryCodesLeft, lastUsed: when(f.recoveryCodesLastUsedAt) }) : t.text("strong.factors.codesLeft", { count: f.recoveryCodesLeft })}</p>
<form method="post" action="/profile/recovery-codes" novalidate>${csrfField(csrf)}${passwordField(t, "recoveryPassword", v.passwordNeeded)}<div class="buttons"><button type="submit" class="secondary">${t.text("strong.factors.renew")}</button></div></form>`
    : html``;
  return html`<section aria-labelledby="factors-heading" id="factors">
<h2 id="factors-heading">${t.text("strong.factors.heading")}</h2>
${message("info", said(t, v.info))}${message("error", said(t, v.error))}
${app}
${recovery}
</section>`;
}
