import { AUDIT_EVENTS } from "../../audit/events.ts";
import type { AuditRecord } from "../../audit/audit.ts";
import { html } from "../../platform/html.ts";
import { message } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { consoleTime, pager, supportPage } from "./support-pages.ts";
import { detailText, eventLabel, shortAgent } from "./support-user-pages.ts";

/** The filter as typed, echoed back into the form and the page links. */
export interface AuditFilterForm {
  user: string;
  event: string;
  /** datetime-local values (yyyy-mm-ddThh:mm) in FAMOS_TIMEZONE. */
  from: string;
  until: string;
}

/** SPEC item 8, "read the audit trail": filter by user, event and time; pages; CSV export. */
export function auditTrailPage(frame: PortalFrame, v: { form: AuditFilterForm; records: AuditRecord[]; page: number; hasNext: boolean; error?: string }): string {
  const tz = frame.t.timeZone;
  const params = Object.fromEntries(Object.entries(v.form).filter(([, value]) => value !== "")) as Record<string, string>;
  const csvHref = `/support/audit.csv?${new URLSearchParams(params).toString()}`;
  const body = html`<h1>Audit trail</h1>
${message("error", v.error)}
<form method="get" action="/support/audit" class="filters">
  <div><label for="user">User (login ID)</label>
  <input type="text" id="user" name="user" value="${v.form.user}" maxlength="128" autocomplete="off" autocapitalize="none" spellcheck="false"></div>
  <div><label for="event">Event</label>
  <select id="event" name="event"><option value="">Any event</option>${Object.entries(AUDIT_EVENTS).map(
    ([name, label]) => html`<option value="${name}"${name === v.form.event ? html` selected` : ""}>${name} – ${label}</option>`,
  )}</select></div>
  <div><label for="from">From (${tz} time)</label>
  <input type="datetime-local" id="from" name="from" value="${v.form.from}"></div>
  <div><label for="until">Until (${tz} time)</label>
  <input type="datetime-local" id="until" name="until" value="${v.form.until}"></div>
  <div class="buttons"><button type="submit">Show events</button> <a class="button secondary" href="${csvHref}">Download CSV</a></div>
</form>
${v.records.length === 0
    ? html`<p role="status">No events match.</p>`
    : html`<table>
<caption class="visually-hidden">Audit events, newest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">By</th><th scope="col">About</th><th scope="col">IP</th><th scope="col">Browser</th><th scope="col">Detail</th></tr></thead>
<tbody>${v.records.map(
        (e) => html`<tr><td>${consoleTime(frame.t, e.time)}</td><td><span class="event">${e.event}</span> ${eventLabel(e.event)}</td><td>${e.actor ?? ""}</td><td>${e.subject ?? ""}</td><td>${e.ip ?? ""}</td><td class="agent">${shortAgent(e.userAgent)}</td><td>${detailText(e.detail, tz)}</td></tr>`,
      )}</tbody></table>`}
${pager("/support/audit", params, v.page, v.hasNext)}`;
  return supportPage(frame, "Audit trail", "audit", body);
}
