import { MAX_PASSWORD_LENGTH } from "../../factors/limits.ts";
import { PASSWORD_MIN_LENGTH } from "../../password/policy.ts";
import { RECENT_CODE_MS } from "../../profile/reauthenticate.ts";
import { html, keptPart, type SafeHtml } from "../../platform/html.ts";
import { isLocale, LOCALE_NAMES, LOCALES, savedTimeZone, type ZoneRegion } from "../../i18n/locales.ts";
import { zoneChoices, zoneLabel } from "../../i18n/zone-names.ts";
import type { MessageKey, Translator } from "../../i18n/translator.ts";
import { csrfField, message, refusedField } from "../layout.ts";
import { didYouMean, keepTypedField, useSuggestionButton } from "./address-suggestion.ts";
import { codeForm, codeProblem, deliveryBlock, type CodeDelivery } from "./code-entry.ts";
import { portalPage, profileFacts, type PortalFrame } from "./portal-pages.ts";

export interface ProfileView {
  info?: string;
  email?: {
    error?: string; newEmail?: string; confirmNewEmail?: string; askOwnMailbox?: boolean; suggestion?: string; ownMailbox?: boolean;
    /** The password was refused or newly asked for: the addresses are kept, the password is typed again. */
    passwordRefused?: boolean;
    /** The address the person chose to keep after "Did you mean …?", kept through a refused password. */
    keepTyped?: string | undefined;
  };
  passwordError?: string;
  /** The password field the refusal is about (marked invalid); none for a pause, which is the account's. */
  passwordRefused?: "currentPassword" | "newPassword";
  /** No code confirmed in the last 15 minutes: the email form asks for the password too. */
  passwordNeeded: boolean;
  /** A change waiting for its code in this session: the new address, masked. */
  pendingTo: string | null;
  /** Issue 16: why the language or time zone was not saved. */
  settingsError?: string;
  /** The "your sessions" part, from src/web/routes/profile-sessions.ts. */
  sessions: SafeHtml;
  /** Issue 13: the authenticator app and recovery codes part, from src/web/routes/strong-factors.ts. */
  factors?: SafeHtml;
  /** The "Passkeys" part (issue 13), from src/web/routes/passkeys.ts. */
  passkeys: SafeHtml;
}

/** Screen 6, the "Profile" tab: who the user is, the OTP email and password forms, their sessions. */
export function profilePage(frame: PortalFrame, v: ProfileView): SafeHtml {
  const { t } = frame;
  const email = v.email ?? {};
  const emailRefused = Boolean(email.error) && !(email.suggestion && email.newEmail);
  // The cursor goes where typing must start again (as on Log in): the password when it was refused.
  const passwordRefused = emailRefused && Boolean(email.passwordRefused) && v.passwordNeeded;
  // A refused password change empties its three fields and the cursor starts again at the first, read
  // with the reason; the field the reason is about is marked invalid (refusedField).
  const changeRefused = Boolean(v.passwordError);
  const currentPasswordState = refusedField("password-error", changeRefused && v.passwordRefused === "currentPassword", undefined, changeRefused);
  const newPasswordState = refusedField("password-error", changeRefused && v.passwordRefused === "newPassword", "newPasswordHint", false);
  const body = html`<h1>${t.text("profile.heading")}</h1>
${message("info", v.info)}
${profileFacts(t, frame.user)}
${settingsForm(frame, v.settingsError)}
<section aria-labelledby="email-heading">
<h2 id="email-heading">${t.text("profile.emailHeading")}</h2>
${v.pendingTo ? html`<p class="delivery">${t.html("profile.pending", { to: v.pendingTo })}</p>` : ""}
<p>${t.text("profile.emailIntro")}</p>
${email.suggestion && email.newEmail
  ? didYouMean(
      t,
      { suggestion: email.suggestion, typed: email.newEmail, button: t.text("profile.sendCode") },
      { csrf: frame.csrf, action: "/profile/email", fields: ["newEmail", "confirmNewEmail"], ownMailbox: email.ownMailbox ?? false, passwordForm: v.passwordNeeded ? "email-form" : undefined },
    )
  : message("error", email.error, "email-error")}
<form method="post" action="/profile/email" id="email-form" novalidate>
  ${csrfField(frame.csrf)}
  ${keepTypedField(email.suggestion ? email.newEmail : email.keepTyped)}
  <label for="newEmail">${t.text("field.newEmail")}</label>
  <input type="email" id="newEmail" name="newEmail" value="${email.newEmail ?? ""}" autocomplete="email" maxlength="254" required${refusedField("email-error", emailRefused && !passwordRefused)}>
  <label for="confirmNewEmail">${t.text("field.confirmNewEmail")}</label>
  <input type="email" id="confirmNewEmail" name="confirmNewEmail" value="${email.confirmNewEmail ?? ""}" autocomplete="off" maxlength="254" required>
  <p class="advice">${t.text("enrol.advice")}</p>
  ${email.askOwnMailbox ? html`<p class="check"><input type="checkbox" id="ownMailbox" name="ownMailbox" value="yes"${email.ownMailbox ? html` checked` : ""}> <label for="ownMailbox">${t.text("field.ownMailbox")}</label></p>` : ""}
  ${v.passwordNeeded
    ? html`<label for="emailPassword">${t.text("field.password")}</label>
  <p class="advice" id="emailPasswordHint">${t.text("profile.passwordHint", { recent: t.duration(RECENT_CODE_MS) })}</p>
  <input type="password" id="emailPassword" name="password" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required${refusedField("email-error", passwordRefused, "emailPasswordHint")}>`
    : ""}
  <div class="buttons"><button type="submit">${t.text("profile.sendCode")}</button>${v.passwordNeeded ? useSuggestionButton(t, email.newEmail && email.suggestion, "email-form") : ""}</div>
</form>
</section>
<section aria-labelledby="password-heading">
<h2 id="password-heading">${t.text("profile.passwordHeading")}</h2>
${message("error", v.passwordError, "password-error")}
<form method="post" action="/profile/password" novalidate>
  ${csrfField(frame.csrf)}
  <label for="currentPassword">${t.text("field.currentPassword")}</label>
  <input type="password" id="currentPassword" name="currentPassword" autocomplete="current-password" maxlength="${MAX_PASSWORD_LENGTH}" required${currentPasswordState}>
  <label for="newPassword">${t.text("field.newPassword")}</label>
  <p class="advice" id="newPasswordHint">${t.text("profile.newPasswordHint", { min: PASSWORD_MIN_LENGTH })}</p>
  <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" maxlength="${MAX_PASSWORD_LENGTH}" required${newPasswordState}>
  <label for="confirmNewPassword">${t.text("field.confirmNewPassword")}</label>
  <input type="password" id="confirmNewPassword" name="confirmNewPassword" autocomplete="new-password" maxlength="${MAX_PASSWORD_LENGTH}" required>
  <p class="advice">${t.text("profile.passwordAdvice")}</p>
  <div class="buttons"><button type="submit">${t.text("profile.changePassword")}</button></div>
</form>
</section>
${v.factors ?? ""}
${v.passkeys}
${v.sessions}`;
  return portalPage(frame, t.text("profile.heading"), "/profile", body);
}

export interface EmailConfirmView extends CodeDelivery {
  error?: string | SafeHtml;
  info?: string;
}

/** The code step of an email change: the labels of "OTP capture", for the new address. */
export function emailConfirmPage(frame: PortalFrame, v: EmailConfirmView): SafeHtml {
  const { t } = frame;
  const body = html`<h1>${t.text("emailConfirm.heading")}</h1>
${deliveryBlock(t, v, "/profile/email/confirm/delivery", true)}
<p>${t.text("emailConfirm.intro")}</p>
${message("info", v.info)}
${codeForm(t, frame.csrf, { confirm: "/profile/email/confirm", cancel: "/profile/email/cancel", regenerate: "/profile/email/regenerate" }, codeProblem(t, v, v.error), v.noMoreCodes ?? null)}
<p><a href="/profile">${t.text("link.backToProfile")}</a></p>`;
  return portalPage(frame, t.text("emailConfirm.heading"), "/profile", body);
}

const REGION_KEYS: Record<ZoneRegion, MessageKey> = {
  Europe: "profile.region.europe",
  America: "profile.region.america",
  Africa: "profile.region.africa",
  Asia: "profile.region.asia",
  Atlantic: "profile.region.atlantic",
  Australia: "profile.region.australia",
  Indian: "profile.region.indian",
  Pacific: "profile.region.pacific",
  Antarctica: "profile.region.antarctica",
  Arctic: "profile.region.arctic",
  Other: "profile.region.other",
};

/**
 * The "Time zone" options: FAMOS's default, the user's current zone, then Intl's 400-odd zones in an
 * <optgroup> per region, each named in the reader's language ("Österreich – Mitteleuropäische Zeit",
 * i18n/zone-names.ts) and in its alphabetical order. The values are the IANA names the route
 * validates, whatever the text.
 */
function zoneOptions(t: Translator, zone: string | null, defaultZone: string, now: number): SafeHtml {
  const option = (z: string, text: string) => html`<option value="${z}"${zone === z ? html` selected` : ""}>${text}</option>`;
  return html`<option value=""${zone ? "" : html` selected`}>${t.text("profile.zoneDefault", { zone: zoneLabel(defaultZone, t.locale, now) })}</option>
    ${zone ? html`<optgroup label="${t.text("profile.zoneCurrent")}">${option(zone, zoneLabel(zone, t.locale, now))}</optgroup>` : ""}
    ${regionGroups(t, zone, now)}`;
}

/**
 * The region groups are the same on every Profile page of one language but for the zone left out
 * (shown first instead): rendered and encoded once per language and zone (issue 17: 400-odd options
 * escaped, then about 34 KB of two-byte string measured and encoded on each page load), a kept part
 * of the page (platform/html.ts, the route sends it with `pageBytes`).
 */
function regionGroups(t: Translator, zone: string | null, now: number): SafeHtml {
  return keptPart(`zones\u0000${t.locale}\u0000${zone ?? ""}`, () => {
    return html`${zoneChoices(t.locale, now).map(
      (g) =>
        html`<optgroup label="${t.text(REGION_KEYS[g.region])}">${g.zones.filter((c) => c.zone !== zone).map((c) => html`<option value="${c.zone}">${c.label}</option>`)}</optgroup>`,
    )}`;
  });
}

/**
 * Issue 16: the user's language and time zone, saved for their pages and mails. Plain selects (no
 * script); the zone list is Intl's, grouped by region, the current zone first.
 */
function settingsForm(frame: PortalFrame, error: string | undefined): SafeHtml {
  const { t, user } = frame;
  const saved = isLocale(user.locale) ? user.locale : null;
  // As pages and mails read it: a legacy name ("GB") is shown, and selected, as the zone it is.
  const zone = savedTimeZone(user.time_zone);
  return html`<section aria-labelledby="settings-heading">
<h2 id="settings-heading">${t.text("profile.settingsHeading")}</h2>
${message("error", error)}
<form method="post" action="/profile/language" novalidate>
  ${csrfField(frame.csrf)}
  <label for="locale">${t.text("field.language")}</label>
  <select id="locale" name="locale">
    <option value=""${saved ? "" : html` selected`}>${t.text("profile.languageBrowser", { current: LOCALE_NAMES[t.locale] })}</option>
    ${LOCALES.map((l) => html`<option value="${l}" lang="${l}"${saved === l ? html` selected` : ""}>${LOCALE_NAMES[l]}</option>`)}
  </select>
  <label for="timeZone">${t.text("field.timeZone")}</label>
  <select id="timeZone" name="timeZone">
    ${zoneOptions(t, zone, frame.config.timezone, frame.now)}
  </select>
  <p class="advice">${t.text("profile.settingsAdvice", { zone: t.zone(frame.now) })}</p>
  <div class="buttons"><button type="submit">${t.text("profile.saveSettings")}</button></div>
</form>
</section>`;
}
