import { AUDIT_EVENTS } from "../../audit/events.ts";
import type { AuditRecord } from "../../audit/audit.ts";
import { formatDateTime, maskEmail } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { ResetRequest } from "../../support/reset-email.ts";
import type { SentMail, UserOverview } from "../../support/user-overview.ts";
import { ROLES, type User } from "../../users/users.ts";
import { csrfField, message } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { consoleTime, enrolmentText, supportPage } from "./support-pages.ts";
import type { Translator } from "../../i18n/translator.ts";
import { accessText } from "../../account/access.ts";
import { identityFields, lifecycleSections } from "./support-lifecycle-pages.ts";
import { factorsRemovalSection, factorsText } from "./support-factor-pages.ts";

export interface UserPageView {
  /** What this person may do here; null when nothing (with the reason shown instead). */
  canReset: boolean;
  canUnlock: boolean;
  canChangeRole: boolean;
  /** Disable, enable, set a temporary password (issue 11). */
  canDisable: boolean;
  /** Issue 13: remove passkeys, the app and recovery codes; null when allowed, else why not. */
  factorsRefused?: string | null;
  /** Why the reset and unlock forms are missing. */
  refusedWhy: string | null;
  info?: string;
  error?: string;
  resetValues?: Partial<ResetRequest>;
}

/**
 * "key: value" pairs; times (ms since the epoch under keys such as "until") shown as times; email
 * addresses (an email change's `to` and `from`, a reset's `previousEmail`) masked as everywhere else
 * on the console (issue 19.7). The CSV export and `famos audit` keep the record as it is.
 */
export function detailText(detail: Record<string, unknown>, timezone: string): string {
  const show = (key: string, value: unknown) => {
    if (typeof value === "number" && value > 1e12 && /(until|at)$/i.test(key)) return formatDateTime(value, timezone);
    if (typeof value === "string" && /^[^\s@]+@[^\s@]+$/.test(value)) return maskEmail(value);
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${show(key, value)}`)
    .join(", ");
}

/** Browsers' user agents are long: the table shows the start, the CSV export all of it. */
export function shortAgent(agent: string | null): string {
  if (!agent) return "";
  return agent.length > 40 ? `${agent.slice(0, 40)}…` : agent;
}

export function eventLabel(event: string): string {
  return (AUDIT_EVENTS as Record<string, string>)[event] ?? event;
}

function lockText(o: UserOverview, tz: string): string {
  const { lock } = o;
  const failures = `${lock.passwordFailures} wrong ${lock.passwordFailures === 1 ? "password" : "passwords"} and ${lock.codeFailures} wrong ${lock.codeFailures === 1 ? "code" : "codes"} in a row`;
  if (lock.hardLocked) return `Locked until support unlocks it (${failures})`;
  if (lock.lockedUntil) return `Locked until ${formatDateTime(lock.lockedUntil, tz)} on new browsers (${failures})`;
  return lock.passwordFailures + lock.codeFailures > 0 ? `Not locked (${failures})` : "Not locked";
}

function eventsTable(events: AuditRecord[], t: Translator): SafeHtml {
  const tz = t.timeZone;
  if (events.length === 0) return html`<p>No security events yet.</p>`;
  return html`<table>
<caption class="visually-hidden">Recent security events</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">By</th><th scope="col">IP</th><th scope="col">Detail</th></tr></thead>
<tbody>${events.map(
    (e) => html`<tr><td>${consoleTime(t, e.time)}</td><td><span class="event">${e.event}</span> ${eventLabel(e.event)}</td><td>${e.actor ?? ""}</td><td>${e.ip ?? ""}</td><td>${detailText(e.detail, tz)}</td></tr>`,
  )}</tbody></table>`;
}

function mailsTable(mails: SentMail[], t: Translator): SafeHtml {
  if (mails.length === 0) return html`<p>No emails sent yet.</p>`;
  return html`<table>
<caption class="visually-hidden">Emails sent to this user</caption>
<thead><tr><th scope="col">Queued</th><th scope="col">Subject</th><th scope="col">To</th><th scope="col">Delivery</th><th scope="col">Sent</th></tr></thead>
<tbody>${mails.map(
    (m) => html`<tr><td>${consoleTime(t, m.created_at)}</td><td>${m.subject}</td><td>${maskEmail(m.recipient)}</td><td class="state-${m.bounce_kind === "hard" ? "failed" : m.state}">${m.state}${m.attempts > 1 ? ` after ${m.attempts} attempts` : ""}${m.last_error && m.state !== "sent" ? html`<br><span class="advice">${m.last_error}</span>` : ""}${bounceText(m)}</td><td>${m.sent_at ? consoleTime(t, m.sent_at) : ""}</td></tr>`,
  )}</tbody></table>`;
}

/** Issue 15: a message the SMTP server took and the receiving server later refused or delayed. */
function bounceText(m: SentMail): SafeHtml {
  if (!m.bounce_kind) return html``;
  const what = m.bounce_kind === "hard" ? "then bounced: undeliverable" : "then delayed (soft bounce)";
  return html`, ${what}${m.bounce_reason ? html`<br><span class="advice">${m.bounce_reason}</span>` : ""}`;
}

/** "Undeliverable since …", "2 soft bounces, the last …", or "No bounces". */
export function deliveryText(problems: UserOverview["delivery"]["otp"], tz: string): string {
  if (!problems) return "No bounces";
  const soft = problems.softBounces > 0 ? `${problems.softBounces} soft ${problems.softBounces === 1 ? "bounce" : "bounces"}${problems.lastSoftBounceAt ? `, the last at ${formatDateTime(problems.lastSoftBounceAt, tz)}` : ""}${problems.lastSoftReason ? ` (${problems.lastSoftReason})` : ""}` : "";
  if (problems.undeliverableAt !== null) {
    return `Undeliverable since ${formatDateTime(problems.undeliverableAt, tz)}${problems.undeliverableReason ? `: ${problems.undeliverableReason}` : ""}${soft ? `; ${soft}` : ""}`;
  }
  return soft || "No bounces";
}

function resetForm(user: User, csrf: string, values: Partial<ResetRequest>): SafeHtml {
  return html`<form method="post" action="/support/users/${user.id}/reset" novalidate>
  ${csrfField(csrf)}
  <p>Type the name, login ID and partner number exactly as the user's “OTP email reset” request gives them: all three must match the account.</p>
  ${identityFields(values)}
  <div class="buttons"><button type="submit">Reset OTP email</button></div>
</form>`;
}

/** The login ID's browsers with failures counted (SPEC "Locks": support sees the locks of devices). */
function deviceLockText(o: UserOverview, tz: string): string {
  const devices = o.lock.devices;
  if (devices.length === 0) return "None";
  return devices
    .map((d, i) => `Browser ${i + 1}: ${d.failures} ${d.failures === 1 ? "failure" : "failures"}${d.lockedUntil ? `, paused until ${formatDateTime(d.lockedUntil, tz)}` : ", not paused"}`)
    .join("; ");
}

/** SPEC item 8, "a user's page": who, enrolment, lock, last sign-in, events, mail; and the actions. */
export function userPage(frame: PortalFrame, o: UserOverview, v: UserPageView): string {
  const tz = frame.t.timeZone;
  const { user } = o;
  const body = html`<h1>User ${user.login_id}</h1>
${message("info", v.info)}${message("error", v.error)}
<dl class="facts">
  <dt>Login ID</dt><dd>${user.login_id}</dd>
  <dt>Name</dt><dd>${user.full_name}</dd>
  <dt>Partner number</dt><dd>${user.partner_number}</dd>
  <dt>Role</dt><dd>${user.role}</dd>
  <dt>OTP email</dt><dd>${enrolmentText(user)}</dd>
  ${user.otp_email ? html`<dt>Delivery to the OTP email</dt><dd>${deliveryText(o.delivery.otp, tz)}</dd>` : ""}
  ${user.pending_email ? html`<dt>Delivery to the address waiting for its code</dt><dd>${deliveryText(o.delivery.pending, tz)}</dd>` : ""}
  <dt>Sign-in lock</dt><dd>${lockText(o, tz)}</dd>
  <dt>Known browsers' locks</dt><dd>${deviceLockText(o, tz)}</dd>
  <dt>Last sign-in</dt><dd>${user.last_sign_in_at ? formatDateTime(user.last_sign_in_at, tz) : "never"}</dd>
  <dt>Account created</dt><dd>${formatDateTime(user.created_at, tz)}</dd>
  <dt>Access</dt><dd>${accessText(user, tz)}</dd>
  <dt>Second factors</dt><dd>${factorsText(o.factors, tz)}</dd>
</dl>
${v.refusedWhy ? html`<p class="message warning" role="status">${v.refusedWhy}</p>` : ""}
${v.canReset ? html`<section aria-labelledby="reset-heading"><h2 id="reset-heading">Reset the OTP email</h2>${resetForm(user, frame.csrf, v.resetValues ?? {})}</section>` : ""}
${v.canUnlock ? html`<section aria-labelledby="unlock-heading"><h2 id="unlock-heading">Unlock</h2>
<form method="post" action="/support/users/${user.id}/unlock">${csrfField(frame.csrf)}
<p>Clears the wrong-password and wrong-code counts of this login ID and of its known browsers, and any lock, the permanent one included.</p>
<div class="buttons"><button type="submit">Unlock</button></div></form></section>` : ""}
${v.canChangeRole ? html`<section aria-labelledby="role-heading"><h2 id="role-heading">Role</h2>
<form method="post" action="/support/users/${user.id}/role">${csrfField(frame.csrf)}
<label for="role">Role</label>
<select id="role" name="role">${ROLES.map((r) => html`<option value="${r}"${r === user.role ? html` selected` : ""}>${r}</option>`)}</select>
<div class="buttons"><button type="submit">Change role</button></div></form></section>` : ""}
${lifecycleSections(user, frame.csrf, v.canDisable)}
${factorsRemovalSection(user, o.factors, frame.csrf, v.factorsRefused ?? null)}
<section aria-labelledby="events-heading"><h2 id="events-heading">Recent security events</h2>
${eventsTable(o.events, frame.t)}
<p><a href="/support/audit?${new URLSearchParams({ user: user.login_id }).toString()}">The full audit trail of ${user.login_id}</a></p></section>
<section aria-labelledby="mail-heading"><h2 id="mail-heading">Emails sent</h2>
${mailsTable(o.mails, frame.t)}</section>
<p><a href="/support">Back to Find users</a></p>`;
  return supportPage(frame, `User ${user.login_id}`, "users", body);
}

/** The confirmation step of a reset: what will happen, with the typed values carried along. */
export function resetConfirmPage(frame: PortalFrame, user: User, request: ResetRequest): string {
  const hidden = (name: keyof ResetRequest) => html`<input type="hidden" name="${name}" value="${request[name]}">`;
  const body = html`<h1>Reset the OTP email of ${user.login_id}?</h1>
<p>The name, login ID and partner number match the account. Ticket reference: <strong>${request.ticket.trim()}</strong>.</p>
<p>The reset:</p>
<ul>
  <li>removes the OTP email ${user.otp_email ? html`(${maskEmail(user.otp_email)})` : ""}${user.pending_email ? html` and the address waiting for its code (${maskEmail(user.pending_email)})` : ""};</li>
  <li>makes every code already sent useless, and signs ${user.full_name} out everywhere;</li>
  <li>${user.otp_email ? "tells the old address of the reset;" : "tells nobody by email (there is no confirmed address);"}</li>
  <li>brings the “User profile” screen at the next sign-in, where the user enters the address again.</li>
</ul>
<form method="post" action="/support/users/${user.id}/reset/confirm">
  ${csrfField(frame.csrf)}${hidden("name")}${hidden("loginId")}${hidden("partnerNumber")}${hidden("ticket")}
  <div class="buttons"><button type="submit">Confirm reset</button> <a class="button secondary" href="/support/users/${user.id}">Cancel</a></div>
</form>`;
  return supportPage(frame, "Confirm the reset", "users", body);
}
