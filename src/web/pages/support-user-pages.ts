import { AUDIT_EVENTS } from "../../audit/events.ts";
import type { AuditRecord } from "../../audit/audit.ts";
import { maskEmail } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { IdentifiedRequest } from "../../support/identified-request.ts";
import type { SentMail, UserOverview } from "../../support/user-overview.ts";
import { ROLES, type User } from "../../users/users.ts";
import { roleName } from "./role-name.ts";
import { csrfField, message, scrollingTable } from "../layout.ts";
import { NO_PROBLEMS, problemSummary, type FieldProblems } from "../field-problems.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { consoleTime, enrolmentText, supportPage, timeColumn, zonedDateTime } from "./support-pages.ts";
import type { Translator } from "../../i18n/translator.ts";
import { accessText } from "../../account/access.ts";
import { identityFields, lifecycleSections } from "./support-lifecycle-pages.ts";
import { factorsRemovalSection, factorsText } from "./support-factor-pages.ts";
import { pauseOverBy } from "../../regulation/pause-end.ts";
import { detailText } from "./audit-detail.ts";

export interface UserPageView {
  /** What this person may do here; null when nothing (with the reason shown instead). */
  canReset: boolean;
  canUnlock: boolean;
  canChangeRole: boolean;
  /** Disable, enable, set a temporary password (issue 11). */
  canDisable: boolean;
  /** Disable or enable refused with a reason of its own (one's own account, a peer support account): shown where the button would be. */
  disableRefused?: string | null;
  /** "Set a temporary password": null when allowed, else why not (shown where the link would be). */
  passwordRefused?: string | null;
  /** Issue 13: remove passkeys, the app and recovery codes; null when allowed, else why not. */
  factorsRefused?: string | null;
  /** Why the reset and unlock forms are missing. */
  refusedWhy: string | null;
  info?: string;
  /** A refused OTP email reset: what was typed, and every problem, each said beside its field. */
  resetValues?: Partial<IdentifiedRequest>;
  resetProblems?: FieldProblems;
}

/** Browsers' user agents are long: the table shows the start, the CSV export all of it. */
export function shortAgent(agent: string | null): string {
  if (!agent) return "";
  return agent.length > 40 ? `${agent.slice(0, 40)}…` : agent;
}

/** An audit event's label in the reader's language (the catalogue's "said.event.*" by its English). */
export function eventLabel(t: Translator, event: string): string {
  const english = (AUDIT_EVENTS as Record<string, string>)[event];
  return english === undefined ? event : t.said(english);
}

function lockText(t: Translator, o: UserOverview): string {
  const { lock } = o;
  const failures = t.text("console.lock.failures", { passwords: lock.passwordFailures, codes: lock.codeFailures });
  const signIn = lock.hardLocked
    ? t.text("console.lock.hard", { failures })
    : lock.lockedUntil
      ? t.text("console.lock.until", { until: zonedDateTime(t, pauseOverBy(lock.lockedUntil), false), failures })
      : lock.passwordFailures + lock.codeFailures > 0
        ? t.text("console.lock.notLockedCounts", { failures })
        : t.text("console.lock.notLocked");
  // The self-service reset's own lock, which Unlock lifts too (src/regulation/throttle.ts, "reset").
  const { reset } = lock;
  if (!reset.locked) return signIn;
  const resetText = reset.until === null ? t.text("console.lock.resetHard", { count: reset.failures }) : t.text("console.lock.resetUntil", { until: zonedDateTime(t, pauseOverBy(reset.until), false), count: reset.failures });
  return `${signIn}. ${resetText}`;
}

function eventsTable(events: AuditRecord[], t: Translator, now: number): SafeHtml {
  if (events.length === 0) return html`<p>${t.text("console.events.none")}</p>`;
  return scrollingTable("events-caption", html`<table>
<caption class="visually-hidden" id="events-caption">${t.text("console.events.caption")}</caption>
<thead><tr><th scope="col">${timeColumn(t, t.text("console.col.timeIn"), now)}</th><th scope="col">${t.text("console.col.event")}</th><th scope="col">${t.text("console.col.by")}</th><th scope="col">${t.text("console.col.ip")}</th><th scope="col">${t.text("console.col.detail")}</th></tr></thead>
<tbody>${events.map(
    (e) => html`<tr><td>${consoleTime(t, e.time)}</td><td><span class="event">${e.event}</span> ${eventLabel(t, e.event)}</td><td>${e.actor ?? ""}</td><td>${e.ip ?? ""}</td><td>${detailText(t, e.detail, e.event)}</td></tr>`,
  )}</tbody></table>`);
}

const MAIL_STATES = { queued: "console.mailState.queued", sending: "console.mailState.sending", sent: "console.mailState.sent", failed: "console.mailState.failed" } as const;

function mailState(t: Translator, m: SentMail): string {
  const state = t.text(MAIL_STATES[m.state as keyof typeof MAIL_STATES] ?? "console.mailState.queued");
  return m.attempts > 1 ? t.text("console.mails.stateAfter", { state, count: m.attempts }) : state;
}

function mailsTable(mails: SentMail[], t: Translator, now: number): SafeHtml {
  if (mails.length === 0) return html`<p>${t.text("console.mails.none")}</p>`;
  return scrollingTable("mail-caption", html`<table>
<caption class="visually-hidden" id="mail-caption">${t.text("console.mails.caption")}</caption>
<thead><tr><th scope="col">${timeColumn(t, t.text("console.col.queued"), now)}</th><th scope="col">${t.text("console.col.subject")}</th><th scope="col">${t.text("console.col.to")}</th><th scope="col">${t.text("console.col.delivery")}</th><th scope="col">${timeColumn(t, t.text("console.col.sent"), now)}</th></tr></thead>
<tbody>${mails.map(
    (m) => html`<tr><td>${consoleTime(t, m.created_at)}</td><td>${m.subject}</td><td>${maskEmail(m.recipient)}</td><td class="state-${m.bounce_kind === "hard" ? "failed" : m.state}">${mailState(t, m)}${m.last_error && m.state !== "sent" ? html`<br><span class="advice">${m.last_error}</span>` : ""}${bounceText(t, m)}</td><td>${m.sent_at ? consoleTime(t, m.sent_at) : ""}</td></tr>`,
  )}</tbody></table>`);
}

/** Issue 15: a message the SMTP server took and the receiving server later refused or delayed. */
function bounceText(t: Translator, m: SentMail): SafeHtml {
  if (!m.bounce_kind) return html``;
  const what = t.text(m.bounce_kind === "hard" ? "console.mails.bouncedHard" : "console.mails.bouncedSoft");
  return html`, ${what}${m.bounce_reason ? html`<br><span class="advice">${m.bounce_reason}</span>` : ""}`;
}

/** "Undeliverable since …", "2 soft bounces, the last …", or "No bounces". */
export function deliveryText(t: Translator, problems: UserOverview["delivery"]["otp"]): string {
  if (!problems) return t.text("console.delivery.none");
  const count = problems.softBounces;
  const soft =
    count > 0
      ? `${problems.lastSoftBounceAt ? t.text("console.delivery.softLast", { count, at: zonedDateTime(t, problems.lastSoftBounceAt, !problems.lastSoftReason) }) : t.text("console.delivery.soft", { count })}${problems.lastSoftReason ? ` (${problems.lastSoftReason})` : ""}`
      : "";
  if (problems.undeliverableAt !== null) {
    return `${t.text("console.delivery.undeliverable", { at: zonedDateTime(t, problems.undeliverableAt) })}${problems.undeliverableReason ? `: ${problems.undeliverableReason}` : ""}${problems.mailboxFull ? `; ${t.text("console.delivery.mailboxFull")}` : ""}${soft ? `; ${soft}` : ""}`;
  }
  return soft || t.text("console.delivery.none");
}

function resetForm(t: Translator, user: User, csrf: string, values: Partial<IdentifiedRequest>, problems: FieldProblems): SafeHtml {
  return html`${problemSummary(t, problems)}<form method="post" action="/support/users/${user.id}/reset" novalidate>
  ${csrfField(csrf)}
  <p>${t.text("console.reset.intro", { request: t.text("wrongEmail.subject") })}</p>
  ${identityFields(t, values, problems)}
  <div class="buttons"><button type="submit">${t.text("console.reset.button")}</button></div>
</form>`;
}

/** The login ID's browsers with failures counted (SPEC "Locks": support sees the locks of devices). */
function deviceLockText(t: Translator, o: UserOverview): string {
  const devices = o.lock.devices;
  if (devices.length === 0) return t.text("console.devices.none");
  return devices
    .map((d, i) =>
      d.hardLocked
        ? t.text("console.devices.locked", { n: i + 1, count: d.failures })
        : d.lockedUntil
        ? t.text("console.devices.paused", { n: i + 1, count: d.failures, until: zonedDateTime(t, pauseOverBy(d.lockedUntil)) })
        : t.text("console.devices.notPaused", { n: i + 1, count: d.failures }),
    )
    .join("; ");
}

/** SPEC item 8, "a user's page": who, enrolment, lock, last sign-in, events, mail; and the actions. */
export function userPage(frame: PortalFrame, o: UserOverview, v: UserPageView): SafeHtml {
  const { t } = frame;
  const { user } = o;
  const refused = (why: string) => html`<p class="message warning" role="status">${t.said(why)}</p>`;
  const body = html`<h1>${t.text("console.user.heading", { loginId: user.login_id })}</h1>
${message("info", v.info)}
<dl class="facts">
  <dt>${t.text("field.loginId")}</dt><dd>${user.login_id}</dd>
  <dt>${t.text("facts.name")}</dt><dd>${user.full_name}</dd>
  <dt>${t.text("facts.partner")}</dt><dd>${user.partner_number}</dd>
  <dt>${t.text("console.role")}</dt><dd>${roleName(t, user.role)}</dd>
  <dt>${t.text("facts.otpEmail")}</dt><dd>${enrolmentText(t, user, o.pending)}</dd>
  ${user.otp_email ? html`<dt>${t.text("console.user.deliveryOtp")}</dt><dd>${deliveryText(t, o.delivery.otp)}</dd>` : ""}
  ${o.pending ? html`<dt>${t.text("console.user.deliveryPending")}</dt><dd>${deliveryText(t, o.delivery.pending)}</dd>` : ""}
  <dt>${t.text("console.user.lock")}</dt><dd>${lockText(t, o)}</dd>
  <dt>${t.text("console.user.deviceLocks")}</dt><dd>${deviceLockText(t, o)}</dd>
  <dt>${t.text("console.lastSignIn")}</dt><dd>${user.last_sign_in_at ? zonedDateTime(t, user.last_sign_in_at) : t.text("console.never")}</dd>
  <dt>${t.text("console.user.created")}</dt><dd>${zonedDateTime(t, user.created_at)}</dd>
  <dt>${t.text("console.user.access")}</dt><dd>${accessText(t, user, o.now)}</dd>
  <dt>${t.text("console.user.factors")}</dt><dd>${factorsText(t, o.factors)}</dd>
</dl>
${v.refusedWhy ? refused(v.refusedWhy) : ""}
${v.canReset ? html`<section aria-labelledby="reset-heading"><h2 id="reset-heading">${t.text("console.reset.heading")}</h2>${resetForm(t, user, frame.csrf, v.resetValues ?? {}, v.resetProblems ?? NO_PROBLEMS)}</section>` : ""}
${v.canUnlock ? html`<section aria-labelledby="unlock-heading"><h2 id="unlock-heading">${t.text("console.unlock.button")}</h2>
<form method="post" action="/support/users/${user.id}/unlock">${csrfField(frame.csrf)}
<p>${t.text("console.unlock.intro")}</p>
<div class="buttons"><button type="submit">${t.text("console.unlock.button")}</button></div></form></section>` : ""}
${v.canChangeRole ? html`<section aria-labelledby="role-heading"><h2 id="role-heading">${t.text("console.role.change")}</h2>
<form method="post" action="/support/users/${user.id}/role">${csrfField(frame.csrf)}
<label for="role">${t.text("console.role")}</label>
<select id="role" name="role">${ROLES.map((r) => html`<option value="${r}"${r === user.role ? html` selected` : ""}>${roleName(t, r)}</option>`)}</select>
<div class="buttons"><button type="submit">${t.text("console.role.change")}</button></div></form></section>` : ""}
${lifecycleSections(t, user, frame.csrf, { canDisable: v.canDisable, disableRefused: v.disableRefused ?? null, passwordRefused: v.passwordRefused ?? null })}
${factorsRemovalSection(t, user, o.factors, frame.csrf, v.factorsRefused ?? null)}
<section aria-labelledby="events-heading"><h2 id="events-heading">${t.text("console.events.heading")}</h2>
${eventsTable(o.events, t, frame.now)}
<p><a href="/support/audit?${new URLSearchParams({ user: user.login_id }).toString()}">${t.text("console.user.fullTrail", { loginId: user.login_id })}</a></p></section>
<section aria-labelledby="mail-heading"><h2 id="mail-heading">${t.text("console.mails.heading")}</h2>
${mailsTable(o.mails, t, frame.now)}</section>
<p><a href="/support">${t.text("console.user.back")}</a></p>`;
  return supportPage(frame, t.text("console.user.heading", { loginId: user.login_id }), "users", body);
}

/**
 * The confirmation step of a reset: what will happen, with the typed values carried along. `waiting`:
 * the address waiting for its code (profile/waiting-address.ts), the only pending one it names.
 */
export function resetConfirmPage(frame: PortalFrame, user: User, request: IdentifiedRequest, waiting: string | null): SafeHtml {
  const { t } = frame;
  const hidden = (name: keyof IdentifiedRequest) => html`<input type="hidden" name="${name}" value="${request[name]}">`;
  const address = user.otp_email ? maskEmail(user.otp_email) : null;
  const pending = waiting ? maskEmail(waiting) : null;
  const removes =
    address && pending
      ? t.text("console.resetConfirm.removesBoth", { address, pending })
      : address
        ? t.text("console.resetConfirm.removesOtp", { address })
        : pending
          ? t.text("console.resetConfirm.removesPending", { pending })
          : t.text("console.resetConfirm.removesNone");
  const body = html`<h1>${t.text("console.resetConfirm.heading", { loginId: user.login_id })}</h1>
<p>${t.html("console.confirm.matches", { ticket: request.ticket.trim() })}</p>
<p>${t.text("console.resetConfirm.intro")}</p>
<ul>
  <li>${removes}</li>
  <li>${t.text("console.resetConfirm.signsOut", { name: user.full_name })}</li>
  <li>${t.text(user.otp_email ? "console.resetConfirm.tellsOld" : "console.resetConfirm.tellsNobody")}</li>
  <li>${t.text("console.resetConfirm.nextSignIn", { screen: t.text("enrol.heading") })}</li>
</ul>
<form method="post" action="/support/users/${user.id}/reset/confirm">
  ${csrfField(frame.csrf)}${hidden("name")}${hidden("loginId")}${hidden("partnerNumber")}${hidden("ticket")}
  <div class="buttons"><button type="submit">${t.text("console.resetConfirm.button")}</button> <a class="button secondary" href="/support/users/${user.id}">${t.text("button.cancel")}</a></div>
</form>`;
  return supportPage(frame, t.text("console.resetConfirm.title"), "users", body);
}
