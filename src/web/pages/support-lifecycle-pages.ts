import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { NewAccount } from "../../account/create.ts";
import { syncDisabled } from "../../account/disable.ts";
import type { IdentifiedRequest } from "../../support/identified-request.ts";
import { TICKET_MAX_LENGTH } from "../../support/ticket.ts";
import { ROLES, type User } from "../../users/users.ts";
import { roleName } from "./role-name.ts";
import { labelledField, NO_PROBLEMS, problemSummary, textField, type FieldProblems } from "../field-problems.ts";
import { csrfField } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage, zonedDateTime } from "./support-pages.ts";

/** What the user's page offers of issue 11's actions, and why not where it does not. */
export interface LifecycleView {
  /** Disable or enable: allowed, or refused with the reason said elsewhere on the page (an administrator's account). */
  canDisable: boolean;
  /** Why not, where the button would be: one's own account, support looking at another support account; null otherwise. */
  disableRefused: string | null;
  /** "Set a temporary password": null when allowed, else why not (one's own account, support looking at another support account). */
  passwordRefused: string | null;
}

/** Disable or enable, and the way to "Set a temporary password" (issue 11), or why this person may not. */
export function lifecycleSections(t: Translator, user: User, csrf: string, v: LifecycleView): SafeHtml {
  if (!v.canDisable && v.disableRefused === null) return html``;
  const toggle = v.disableRefused !== null
    ? html`<p class="message warning" role="status">${t.said(v.disableRefused)}</p>`
    : user.disabled_at === null
      ? html`<form method="get" action="/support/users/${user.id}/disable">
<p>${t.text("console.disable.intro")}</p>
<div class="buttons"><button type="submit">${t.text("console.disable.button")}</button></div></form>`
      : html`<form method="post" action="/support/users/${user.id}/enable">${csrfField(csrf)}
<p>${t.text("console.enable.intro")}</p>
<div class="buttons"><button type="submit">${t.text("console.enable.button")}</button></div></form>${keepDisabledForm(t, user, csrf)}`;
  return html`<section aria-labelledby="access-heading"><h2 id="access-heading">${t.text("console.access.heading")}</h2>${toggle}</section>
<section aria-labelledby="password-heading"><h2 id="password-heading">${t.text("console.forgotten.heading")}</h2>
${v.passwordRefused
    ? html`<p class="message warning" role="status">${t.said(v.passwordRefused)}</p>`
    : html`<p>${t.html("console.forgotten.text", { link: html`<a href="/support/users/${user.id}/temporary-password">${t.text("console.temporary.title")}</a>` })}</p>`}</section>`;
}

/**
 * "Keep disabled", only for an account an import --sync disabled (its access line says an import placing
 * them at another partner enables them again): the disable becomes a person's, which no import undoes
 * (account/disable.ts keepDisabled). The same rule as Disable decides who may (the caller's canDisable).
 */
function keepDisabledForm(t: Translator, user: User, csrf: string): SafeHtml {
  if (!syncDisabled(user)) return html``;
  return html`<form method="post" action="/support/users/${user.id}/keep-disabled">${csrfField(csrf)}
<p>${t.text("console.keep.intro", { partner: user.sync_disabled_partner })}</p>
<div class="buttons"><button type="submit">${t.text("console.keep.button")}</button></div></form>`;
}

/**
 * Disabling asks first (a leaver's row among namesakes of one dealership is easy to miss): who it
 * is, what happens, then "Disable the account" or Cancel. The POST alone does it, as before.
 */
export function disableConfirmPage(frame: PortalFrame, user: User): SafeHtml {
  const { t } = frame;
  const body = html`<h1>${t.text("console.disableConfirm.heading", { loginId: user.login_id })}</h1>
<p>${t.text("console.disableConfirm.who", { name: user.full_name, partner: user.partner_number })}</p>
<p>${t.text("console.disable.intro")}</p>
<form method="post" action="/support/users/${user.id}/disable">
  ${csrfField(frame.csrf)}
  <div class="buttons"><button type="submit">${t.text("console.disableConfirm.button")}</button> <a class="button secondary" href="/support/users/${user.id}">${t.text("button.cancel")}</a></div>
</form>`;
  return supportPage(frame, t.text("console.disableConfirm.heading", { loginId: user.login_id }), "users", body);
}

/**
 * The request's "Name", "Login ID", "Partner number" and "Ticket reference" (OTP email reset,
 * temporary password), each with its problem beside it when the request was refused; the summary
 * goes before the form (problemSummary).
 */
export function identityFields(t: Translator, values: Partial<IdentifiedRequest>, problems: FieldProblems = NO_PROBLEMS): SafeHtml {
  const field = (id: string, label: string, maxlength: number, verbatim = false) =>
    textField(problems, { id, label, value: values[id as keyof IdentifiedRequest], maxlength, autocomplete: "off", verbatim, required: true });
  return html`${field("name", t.text("facts.name"), 200)}
  ${field("loginId", t.text("field.loginId"), 128, true)}
  ${field("partnerNumber", t.text("facts.partner"), 32)}
  ${field("ticket", t.text("console.ticket"), TICKET_MAX_LENGTH)}`;
}

/** The request as the temporary-password form carries it: typed, and the stamp of the account as shown (account/temporary-password.ts). */
export type TemporaryPasswordRequest = IdentifiedRequest & { formStamp: string };

/** Step 1: the request's name, login ID and partner number must match, as for an OTP email reset. Every problem is said at once, beside its field. */
export function temporaryPasswordPage(frame: PortalFrame, user: User, values: Partial<IdentifiedRequest> & { formStamp: string }, problems: FieldProblems = NO_PROBLEMS): SafeHtml {
  const { t } = frame;
  const body = html`<h1>${t.text("console.temporary.heading", { loginId: user.login_id })}</h1>
${problemSummary(t, problems)}
<form method="post" action="/support/users/${user.id}/temporary-password" novalidate>
  ${csrfField(frame.csrf)}<input type="hidden" name="formStamp" value="${values.formStamp}">
  <p>${t.text("console.temporary.intro")}</p>
  ${identityFields(t, values, problems)}
  <div class="buttons"><button type="submit">${t.text("console.temporary.title")}</button> <a class="button secondary" href="/support/users/${user.id}">${t.text("button.cancel")}</a></div>
</form>`;
  return supportPage(frame, t.text("console.temporary.title"), "users", body);
}

/** Step 2: what will happen, with the typed values carried along. */
export function temporaryPasswordConfirmPage(frame: PortalFrame, user: User, request: TemporaryPasswordRequest, ttlMs: number): SafeHtml {
  const { t } = frame;
  const hidden = (name: keyof TemporaryPasswordRequest) => html`<input type="hidden" name="${name}" value="${request[name]}">`;
  const body = html`<h1>${t.text("console.temporaryConfirm.heading", { loginId: user.login_id })}</h1>
<p>${t.html("console.confirm.matches", { ticket: request.ticket.trim() })}</p>
<ul>
  <li>${t.text("console.temporaryConfirm.shown", { name: user.full_name })}</li>
  <li>${t.text("console.temporaryConfirm.works", { ttl: t.duration(ttlMs) })}</li>
  <li>${t.text("console.temporaryConfirm.signsOut", { name: user.full_name })}</li>
  <li>${t.text(user.otp_email ? "console.temporaryConfirm.tellsOtp" : "console.temporaryConfirm.tellsNobody")}</li>
</ul>
<form method="post" action="/support/users/${user.id}/temporary-password/confirm">
  ${csrfField(frame.csrf)}${hidden("name")}${hidden("loginId")}${hidden("partnerNumber")}${hidden("ticket")}${hidden("formStamp")}
  <div class="buttons"><button type="submit">${t.text("console.temporaryConfirm.button")}</button> <a class="button secondary" href="/support/users/${user.id}">${t.text("button.cancel")}</a></div>
</form>`;
  return supportPage(frame, t.text("console.temporaryConfirm.title"), "users", body);
}

/**
 * A temporary-password form submitted after the account's password changed (a second click, another
 * tab): nothing was set. When the password that works now is a temporary one, when it was set, so
 * support reads out the one shown then; another only from a fresh form.
 */
export function temporaryPasswordStalePage(frame: PortalFrame, user: User, setAt: number | null): SafeHtml {
  const { t } = frame;
  const said = setAt === null ? t.text("console.temporaryStale.changed", { loginId: user.login_id }) : t.text("console.temporaryStale.set", { loginId: user.login_id, at: zonedDateTime(t, setAt) });
  const body = html`<h1>${t.text("console.temporaryStale.title")}</h1>
<p class="message warning" role="alert">${said}</p>
<p><a href="/support/users/${user.id}/temporary-password">${t.text("console.temporaryStale.fresh")}</a></p>
<p><a href="/support/users/${user.id}">${t.text("console.temporaryShown.back", { loginId: user.login_id })}</a></p>`;
  return supportPage(frame, t.text("console.temporaryStale.title"), "users", body);
}

/** Shown once: the password is not stored anywhere FAMOS could show it again. */
export function temporaryPasswordShownPage(frame: PortalFrame, user: User, password: string, expiresAt: number, created: boolean): SafeHtml {
  const { t } = frame;
  const body = html`<h1>${t.text(created ? "console.temporaryShown.created" : "console.temporaryShown.heading", { loginId: user.login_id })}</h1>
<p class="message info" role="status">${t.html("console.temporaryShown.password", { password })}</p>
<p>${t.text("console.temporaryShown.advice", { name: user.full_name, until: zonedDateTime(t, expiresAt) })}</p>
<p><a href="/support/users/${user.id}">${t.text("console.temporaryShown.back", { loginId: user.login_id })}</a></p>`;
  return supportPage(frame, t.text(created ? "console.temporaryShown.createdTitle" : "console.temporaryShown.title"), "users", body);
}

/** "Create a user": the fields of `famos user add`; the first password is a temporary one. Every wrong field is said at once, beside it. */
export function newUserPage(frame: PortalFrame, v: { values: Partial<NewAccount>; problems?: FieldProblems; isAdmin: boolean }): SafeHtml {
  const { t } = frame;
  const problems = v.problems ?? NO_PROBLEMS;
  const roles = v.isAdmin ? ROLES : (["user"] as const);
  const body = html`<h1>${t.text("console.newUser.heading")}</h1>
${problemSummary(t, problems)}
<form method="post" action="/support/users/new" novalidate>
  ${csrfField(frame.csrf)}
  ${textField(problems, { id: "loginId", label: t.text("field.loginId"), value: v.values.loginId, maxlength: 128, autocomplete: "off", verbatim: true, required: true })}
  ${textField(problems, { id: "fullName", label: t.text("console.newUser.fullName"), value: v.values.fullName, maxlength: 200, autocomplete: "off", required: true })}
  ${textField(problems, { id: "partnerNumber", label: t.text("facts.partner"), value: v.values.partnerNumber, maxlength: 32, autocomplete: "off", required: true })}
  ${labelledField(problems, { id: "role", label: t.text("console.role") }, (state) => html`<select id="role" name="role"${state}>${roles.map((r) => html`<option value="${r}"${r === (v.values.role ?? "user") ? html` selected` : ""}>${roleName(t, r)}</option>`)}</select>`)}
  ${textField(problems, { id: "email", label: t.text("console.newUser.email"), hint: t.text("console.newUser.emailHint"), type: "email", value: v.values.email, maxlength: 254, autocomplete: "off" })}
  <div class="buttons"><button type="submit">${t.text("console.newUser.button")}</button> <a class="button secondary" href="/support">${t.text("button.cancel")}</a></div>
</form>`;
  return supportPage(frame, t.text("console.newUser.heading"), "users", body);
}
