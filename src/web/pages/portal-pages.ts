import type { Config } from "../../config/config.ts";
import type { Notice } from "../../notices/notices.ts";
import { formatDate, formatDateTime, formatTime, maskEmail } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { User } from "../../users/users.ts";
import { page } from "../layout.ts";

export interface PortalFrame {
  config: Readonly<Config>;
  csrf: string;
  user: User;
  notices: Notice[];
  /** The 2FA rollout's invitation to set an OTP email (issue 12), when the user has one. */
  rollout?: SafeHtml;
}

/** "Application Issue <14/06/2023 17:47> Please click for more info", with "UPDATED" when edited. */
export function noticeBanner(notices: Notice[], timezone: string): SafeHtml {
  if (notices.length === 0) return html``;
  return html`<aside class="notices" aria-label="Notices"><ul>${notices.map((n) => {
    const updated = n.updated_at
      ? html` UPDATED ${formatDate(n.updated_at, timezone).replace(/\/(\d{2})(\d{2})$/, "/$2")} - ${formatTime(n.updated_at, timezone)}`
      : "";
    return html`<li><a href="/notices/${n.id}">${n.title} &lt;${formatDateTime(n.created_at, timezone)}&gt; Please click for more info</a>${updated}</li>`;
  })}</ul></aside>`;
}

export function portalPage(frame: PortalFrame, title: string, active: string | null, body: SafeHtml): string {
  return page({
    title,
    body,
    config: frame.config,
    portal: {
      csrf: frame.csrf,
      active,
      notices: html`${frame.rollout ?? ""}${noticeBanner(frame.notices, frame.config.timezone)}`,
      isSupport: frame.user.role !== "user",
    },
  });
}

export function homePage(frame: PortalFrame): string {
  const { user, config } = frame;
  return portalPage(
    frame,
    "FAMOS",
    null,
    html`<h1>Welcome, ${user.full_name}</h1>
<p>You are signed in to FAMOS as <strong>${user.login_id}</strong> (partner ${user.partner_number}).</p>
<p>Choose a section above: ${config.sections.map((s, i) => html`${i ? ", " : ""}<a href="${s.path}">${s.label}</a>`)}, or <a href="/profile">Profile</a> to manage your one time passcode email and password.</p>`,
  );
}

/** A section of the protected application when FAMOS_UPSTREAM_URL is not configured. */
export function sectionPlaceholder(frame: PortalFrame, label: string, path: string): string {
  return portalPage(
    frame,
    label,
    path,
    html`<h1>${label}</h1>
<p>This section belongs to the FAMOS application that sits behind this sign-in layer, and it is not connected yet.</p>
<p>Operators: set <code>FAMOS_UPSTREAM_URL</code> to the application's address and FAMOS will forward
requests under <code>${path}</code> to it for signed-in users, with their identity in <code>X-Famos-*</code> headers.</p>`,
  );
}

export function profileFacts(user: User): SafeHtml {
  return html`<dl class="facts">
  <dt>Login ID</dt><dd>${user.login_id}</dd>
  <dt>Name</dt><dd>${user.full_name}</dd>
  <dt>Partner number</dt><dd>${user.partner_number}</dd>
  <dt>OTP email</dt><dd>${user.otp_email ?? "none"}${user.otp_email ? html` <span class="advice">(shown to others as ${maskEmail(user.otp_email)})</span>` : ""}</dd>
</dl>`;
}

export function noticePage(frame: PortalFrame, notice: Notice): string {
  const tz = frame.config.timezone;
  return portalPage(
    frame,
    notice.title,
    null,
    html`<h1>${notice.title}</h1>
<p class="advice">Posted ${formatDateTime(notice.created_at, tz)}${notice.updated_at ? html`, updated ${formatDateTime(notice.updated_at, tz)}` : ""}${notice.ended_at ? html`, ended ${formatDateTime(notice.ended_at, tz)}` : ""}</p>
<div class="notice-body">${notice.body.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</div>
<p><a href="/">Back to FAMOS</a></p>`,
  );
}

export function legalPage(config: Readonly<Config>): string {
  return page({
    title: "Legal Information",
    config,
    body: html`<h1>Legal Information</h1><p>No legal information page has been configured for this FAMOS installation. Operators set it with <code>FAMOS_LEGAL_URL</code>.</p><p><a href="/">Back to FAMOS</a></p>`,
  });
}
