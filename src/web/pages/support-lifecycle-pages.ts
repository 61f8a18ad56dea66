import { formatDateTime } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { NewAccount } from "../../account/create.ts";
import type { ResetRequest } from "../../support/reset-email.ts";
import { ROLES, type User } from "../../users/users.ts";
import { csrfField, message } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage } from "./support-pages.ts";

/** Disable or enable, and the way to "Set a temporary password" (issue 11). */
export function lifecycleSections(user: User, csrf: string, allowed: boolean): SafeHtml {
  if (!allowed) return html``;
  const toggle = user.disabled_at === null
    ? html`<form method="post" action="/support/users/${user.id}/disable">${csrfField(csrf)}
<p>For a leaver: the user cannot sign in any more, every session ends at once and codes already sent stop working. The account and its history stay; it can be enabled again.</p>
<div class="buttons"><button type="submit">Disable</button></div></form>`
    : html`<form method="post" action="/support/users/${user.id}/enable">${csrfField(csrf)}
<p>The user can sign in again with their password as it was.</p>
<div class="buttons"><button type="submit">Enable</button></div></form>`;
  return html`<section aria-labelledby="access-heading"><h2 id="access-heading">Access</h2>${toggle}</section>
<section aria-labelledby="password-heading"><h2 id="password-heading">Forgotten password</h2>
<p><a href="/support/users/${user.id}/temporary-password">Set a temporary password</a> (after checking the request as for an OTP email reset).</p></section>`;
}

/** The request's "Name", "Login ID", "Partner number" and "Ticket reference" (OTP email reset, temporary password). */
export function identityFields(values: Partial<ResetRequest>): SafeHtml {
  return html`<label for="name">Name</label>
  <input type="text" id="name" name="name" value="${values.name ?? ""}" maxlength="200" autocomplete="off" required>
  <label for="loginId">Login ID</label>
  <input type="text" id="loginId" name="loginId" value="${values.loginId ?? ""}" maxlength="128" autocomplete="off" autocapitalize="none" spellcheck="false" required>
  <label for="partnerNumber">Partner number</label>
  <input type="text" id="partnerNumber" name="partnerNumber" value="${values.partnerNumber ?? ""}" maxlength="32" autocomplete="off" required>
  <label for="ticket">Ticket reference</label>
  <input type="text" id="ticket" name="ticket" value="${values.ticket ?? ""}" maxlength="64" autocomplete="off" required>`;
}

/** Step 1: the request's name, login ID and partner number must match, as for an OTP email reset. */
export function temporaryPasswordPage(frame: PortalFrame, user: User, values: Partial<ResetRequest>, error?: string): string {
  const body = html`<h1>Set a temporary password for ${user.login_id}</h1>
${message("error", error)}
<form method="post" action="/support/users/${user.id}/temporary-password" novalidate>
  ${csrfField(frame.csrf)}
  <p>Type the name, login ID and partner number exactly as the user's request gives them: all three must match the account.</p>
  ${identityFields(values)}
  <div class="buttons"><button type="submit">Set a temporary password</button> <a class="button secondary" href="/support/users/${user.id}">Cancel</a></div>
</form>`;
  return supportPage(frame, "Set a temporary password", "users", body);
}

/** Step 2: what will happen, with the typed values carried along. */
export function temporaryPasswordConfirmPage(frame: PortalFrame, user: User, request: ResetRequest, ttl: string): string {
  const hidden = (name: keyof ResetRequest) => html`<input type="hidden" name="${name}" value="${request[name]}">`;
  const body = html`<h1>Set a temporary password for ${user.login_id}?</h1>
<p>The name, login ID and partner number match the account. Ticket reference: <strong>${request.ticket.trim()}</strong>.</p>
<ul>
  <li>FAMOS makes a temporary password and shows it to you once; give it to ${user.full_name} yourself.</li>
  <li>It works for one sign-in within ${ttl}, with a code as usual; then the user chooses a new password.</li>
  <li>${user.full_name} is signed out everywhere, and codes already sent stop working.</li>
  <li>${user.otp_email ? "The OTP email is told (without the password)." : "Nobody is told by email (there is no confirmed address)."}</li>
</ul>
<form method="post" action="/support/users/${user.id}/temporary-password/confirm">
  ${csrfField(frame.csrf)}${hidden("name")}${hidden("loginId")}${hidden("partnerNumber")}${hidden("ticket")}
  <div class="buttons"><button type="submit">Confirm temporary password</button> <a class="button secondary" href="/support/users/${user.id}">Cancel</a></div>
</form>`;
  return supportPage(frame, "Confirm the temporary password", "users", body);
}

/** Shown once: the password is not stored anywhere FAMOS could show it again. */
export function temporaryPasswordShownPage(frame: PortalFrame, user: User, password: string, expiresAt: number, created: boolean): string {
  const body = html`<h1>${created ? `User ${user.login_id} created` : `Temporary password for ${user.login_id}`}</h1>
<p class="message info" role="status">Temporary password: <strong class="secret">${password}</strong></p>
<p>Give it to ${user.full_name} yourself (not by email to the OTP address). It works for one sign-in until ${formatDateTime(expiresAt, frame.t.timeZone)}; then the user chooses a new password. This page is the only time FAMOS shows it.</p>
<p><a href="/support/users/${user.id}">Back to ${user.login_id}</a></p>`;
  return supportPage(frame, created ? "User created" : "Temporary password set", "users", body);
}

/** "Create a user": the fields of `famos user add`; the first password is a temporary one. */
export function newUserPage(frame: PortalFrame, v: { values: Partial<NewAccount>; error?: string; isAdmin: boolean }): string {
  const roles = v.isAdmin ? ROLES : (["user"] as const);
  const body = html`<h1>Create a user</h1>
${message("error", v.error)}
<form method="post" action="/support/users/new" novalidate>
  ${csrfField(frame.csrf)}
  <label for="loginId">Login ID</label>
  <input type="text" id="loginId" name="loginId" value="${v.values.loginId ?? ""}" maxlength="128" autocomplete="off" autocapitalize="none" spellcheck="false" required>
  <label for="fullName">Full name</label>
  <input type="text" id="fullName" name="fullName" value="${v.values.fullName ?? ""}" maxlength="200" autocomplete="off" required>
  <label for="partnerNumber">Partner number</label>
  <input type="text" id="partnerNumber" name="partnerNumber" value="${v.values.partnerNumber ?? ""}" maxlength="32" autocomplete="off" required>
  <label for="role">Role</label>
  <select id="role" name="role">${roles.map((r) => html`<option value="${r}"${r === (v.values.role ?? "user") ? html` selected` : ""}>${r}</option>`)}</select>
  <label for="email">OTP email (optional)</label>
  <p class="advice" id="emailHint">Leave empty to let the user enter it at the first sign-in. An address given here is taken as confirmed.</p>
  <input type="email" id="email" name="email" value="${v.values.email ?? ""}" maxlength="254" autocomplete="off" aria-describedby="emailHint">
  <div class="buttons"><button type="submit">Create user</button> <a class="button secondary" href="/support">Cancel</a></div>
</form>`;
  return supportPage(frame, "Create a user", "users", body);
}
