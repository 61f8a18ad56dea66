import { MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import { PASSKEY_TEXT as T } from "../../passkeys/messages.ts";
import type { PasskeySummary } from "../../passkeys/passkeys.ts";
import { MAX_PASSKEY_NAME } from "../../passkeys/registration.ts";
import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { RECENT_CODE_MS } from "../../profile/reauthenticate.ts";
import { csrfField, message, scrollingTable } from "../layout.ts";

/**
 * The browser half of a passkey ceremony: @simplewebauthn/browser (served from the app) and FAMOS's
 * module that drives the forms marked data-passkey. No inline script (CSP script-src 'self').
 */
export const passkeyScripts = html`<script src="/static/vendor/simplewebauthn-browser.js"></script>
<script type="module" src="/static/passkeys.js"></script>`;

/** The words the browser module shows (from the one string table, see src/passkeys/messages.ts). */
const scriptWords = (t: Translator) => html`data-working="${t.text("passkey.scriptWorking")}" data-cancelled="${t.text("passkey.scriptCancelled")}" data-unsupported="${t.text("passkey.scriptUnsupported")}"`;

const statusLine = (t: Translator) => html`<p class="passkey-status" data-passkey-status aria-live="polite"></p>
<noscript><p class="advice">${t.said(T.needsScript)}</p></noscript>`;

export interface AddPasskeyFormView {
  csrf: string;
  /**
   * Where the ceremony's two halves post: `${path}/options` (the visible form; the browser module
   * asks there for creation options as JSON, and without script it answers that passkeys need
   * JavaScript) and `${path}` (the hidden form that carries the browser's answer).
   */
  path: string;
  /** No code confirmed in the last 15 minutes: ask for the password too. */
  passwordNeeded: boolean;
  name?: string;
  error?: string;
}

/**
 * "Add a passkey": a name, the password when the proof is not fresh, and the button. A page fragment
 * for Profile and for the strong-factor screen of issue 13 (mount the routes with
 * passkeyRegistrationRoutes; the fragment brings its scripts).
 */
export function addPasskeyForm(t: Translator, v: AddPasskeyFormView): SafeHtml {
  return html`${message("error", v.error === undefined ? undefined : t.said(v.error))}
<form method="post" action="${v.path}/options" data-passkey="register" data-finish="passkey-add-finish" ${scriptWords(t)} novalidate>
  ${csrfField(v.csrf)}
  <label for="passkeyName">${t.text("passkey.nameLabel")}</label>
  <p class="advice" id="passkeyNameHint">${t.text("passkey.nameHint")}</p>
  <input type="text" id="passkeyName" name="name" value="${v.name ?? ""}" maxlength="${MAX_PASSKEY_NAME}" autocomplete="off" aria-describedby="passkeyNameHint" required>
  ${v.passwordNeeded
    ? html`<label for="passkeyPassword">${t.text("field.password")}</label>
  <p class="advice" id="passkeyPasswordHint">${t.text("passkey.passwordHint", { recent: t.duration(RECENT_CODE_MS) })}</p>
  <input type="password" id="passkeyPassword" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" aria-describedby="passkeyPasswordHint" required>`
    : ""}
  ${statusLine(t)}
  <div class="buttons"><button type="submit">${t.text("passkey.addButton")}</button></div>
</form>
<form method="post" action="${v.path}" id="passkey-add-finish" hidden>${csrfField(v.csrf)}<input type="hidden" name="name" value=""><input type="hidden" name="credential" value=""></form>
${passkeyScripts}`;
}

export interface PasskeysSectionView {
  csrf: string;
  passkeys: PasskeySummary[];
  passwordNeeded: boolean;
  info?: string;
  /** A problem with removing a passkey. */
  removeError?: string;
  add: Omit<AddPasskeyFormView, "csrf" | "passwordNeeded" | "path">;
}

/** Profile → "Passkeys": each with its name, when added and last used, and "Remove"; then "Add a passkey". */
export function passkeysSection(t: Translator, v: PasskeysSectionView): SafeHtml {
  const when = (ms: number | null) => (ms === null ? t.text("passkey.neverUsed") : t.dateTime(ms));
  const said = (text: string | undefined) => (text === undefined ? undefined : t.said(text));
  const row = (p: PasskeySummary) => html`<tr>
  <td>${p.name}</td>
  <td>${when(p.createdAt)}</td>
  <td>${when(p.lastUsedAt)}</td>
  <td><form method="post" action="/profile/passkeys/${p.id}/remove" class="inline">${csrfField(v.csrf)}
    ${v.passwordNeeded
      ? html`<label for="remove-${p.id}">${t.text("field.password")}</label> <input type="password" id="remove-${p.id}" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required>`
      : ""}
    <button type="submit" class="secondary" aria-label="${t.text("passkey.removeLabel", { name: p.name })}">${t.text("passkey.removeButton")}</button></form></td>
</tr>`;
  return html`<!-- passkeys -->
<section aria-labelledby="passkeys-heading" id="passkeys">
<h2 id="passkeys-heading">${t.text("passkey.sectionHeading")}</h2>
${message("info", said(v.info))}${message("error", said(v.removeError))}
<p>${t.text("passkey.sectionIntro")}</p>
${v.passkeys.length === 0
  ? html`<p>${t.text("passkey.none")}</p>`
  : scrollingTable("passkeys-caption", html`<table>
<caption class="visually-hidden" id="passkeys-caption">${t.text("passkey.tableCaption")}</caption>
<thead><tr><th scope="col">${t.text("passkey.columnName")}</th><th scope="col">${t.text("passkey.columnAdded")}</th><th scope="col">${t.text("passkey.columnLastUsed")}</th><th scope="col">${t.text("passkey.columnAction")}</th></tr></thead>
<tbody>${v.passkeys.map(row)}</tbody>
</table>`)}
${addPasskeyForm(t, { csrf: v.csrf, passwordNeeded: v.passwordNeeded, path: "/profile/passkeys", ...v.add })}
</section>`;
}

/** OTP capture → "Use a passkey instead", for a user who has one. */
export function passkeySignInForm(t: Translator, csrf: string): SafeHtml {
  return html`<section aria-labelledby="passkey-heading">
<h2 id="passkey-heading">${t.text("passkey.useInstead")}</h2>
<form method="post" action="/otp/passkey/options" data-passkey="signin" data-finish="passkey-signin-finish" ${scriptWords(t)}>
  ${csrfField(csrf)}
  <p>${t.text("passkey.useInsteadIntro")}</p>
  ${statusLine(t)}
  <div class="buttons"><button type="submit" class="secondary">${t.text("passkey.useInstead")}</button></div>
</form>
<form method="post" action="/otp/passkey" id="passkey-signin-finish" hidden>${csrfField(csrf)}<input type="hidden" name="credential" value=""></form>
</section>
${passkeyScripts}`;
}
