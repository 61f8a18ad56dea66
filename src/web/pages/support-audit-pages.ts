import type { AuditRecord } from "../../audit/audit.ts";
import { AUDIT_EVENTS } from "../../audit/events.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { UNKNOWN_LOGIN_ID, type AuditPage } from "../../support/audit-trail.ts";
import { labelledField, NO_PROBLEMS, problemSummary, textField, type FieldProblems } from "../field-problems.ts";
import { message, scrollingTable } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { consoleTime, pagerLinks, pastEndNote, supportPage, timeColumn } from "./support-pages.ts";
import { readsWholeRecords } from "../../support/acting.ts";
import type { User } from "../../users/users.ts";
import { detailText, maskedDetail } from "./audit-detail.ts";
import { eventLabel, shortAgent } from "./support-user-pages.ts";

/** The filter as typed, echoed back into the form and the page links. */
export interface AuditFilterForm {
  user: string;
  event: string;
  /** datetime-local values (yyyy-mm-ddThh:mm) in FAMOS_TIMEZONE. */
  from: string;
  until: string;
}

/** SPEC item 8, "read the audit trail": filter by user, event and time; pages; CSV export. */
export function auditTrailPage(frame: PortalFrame, v: AuditPage & { form: AuditFilterForm; problems?: FieldProblems }): SafeHtml {
  const { t } = frame;
  const problems = v.problems ?? NO_PROBLEMS;
  // The times and the filter are in the reader's zone, named as people say it ("UK time") in the
  // column's heading and the two fields' labels (timeColumn).
  // A login ID no account has is never shown as typed (src/support/audit-trail.ts): said in the reader's words.
  const who = (name: string | null) => (name === UNKNOWN_LOGIN_ID ? t.text("console.audit.unknownLoginId") : (name ?? ""));
  const params = Object.fromEntries(Object.entries(v.form).filter(([, value]) => value !== "")) as Record<string, string>;
  const csvHref = `/support/audit.csv?${new URLSearchParams(params).toString()}`;
  // Older and Newer continue from the page's last and first rows (keyset: as fast on page 2,000 as on
  // page 2), carrying the page numbers they lead to.
  const first = v.records[0];
  const last = v.records.at(-1);
  const newer = v.hasPrevious && first ? { after: String(first.id), page: String(v.page - 1) } : null;
  const older = v.hasNext && last ? { before: String(last.id), page: String(v.page + 1) } : null;
  const body = html`<h1>${t.text("console.nav.audit")}</h1>
${problemSummary(t, problems)}
<form method="get" action="/support/audit" class="filters">
  <div>${textField(problems, { id: "user", label: t.text("console.audit.user"), value: v.form.user, maxlength: 128, autocomplete: "off", verbatim: true })}</div>
  <div>${labelledField(problems, { id: "event", label: t.text("console.col.event") }, (state) => html`<select id="event" name="event"${state}><option value="">${t.text("console.audit.anyEvent")}</option>${Object.keys(AUDIT_EVENTS).map(
    (name) => html`<option value="${name}"${name === v.form.event ? html` selected` : ""}>${name} – ${eventLabel(t, name)}</option>`,
  )}</select>`)}</div>
  <div>${textField(problems, { id: "from", label: timeColumn(t, t.text("console.audit.from"), frame.now), type: "datetime-local", value: v.form.from })}</div>
  <div>${textField(problems, { id: "until", label: timeColumn(t, t.text("console.audit.until"), frame.now), type: "datetime-local", value: v.form.until })}</div>
  <div class="buttons"><button type="submit">${t.text("console.audit.show")}</button> <a class="button secondary" href="${csvHref}">${t.text("console.downloadCsv")}</a></div>
</form>
${problems.size ? "" : v.records.length === 0
    ? html`<p role="status">${t.text("console.audit.none")}</p>`
    : html`${pastEndNote(t, v.pastEnd)}${message("info", v.pageLimit && t.text("console.audit.pageLimit", { ...v.pageLimit, next: t.text("console.pager.next") }))}${scrollingTable("audit-caption", html`<table>
<caption class="visually-hidden" id="audit-caption">${t.text("console.audit.caption")}</caption>
<thead><tr><th scope="col">${timeColumn(t, t.text("console.col.timeIn"), frame.now)}</th><th scope="col">${t.text("console.col.event")}</th><th scope="col">${t.text("console.col.by")}</th><th scope="col">${t.text("console.col.about")}</th><th scope="col">${t.text("console.col.ip")}</th><th scope="col">${t.text("console.col.browser")}</th><th scope="col">${t.text("console.col.detail")}</th></tr></thead>
<tbody>${v.records.map(
        (e) => html`<tr><td>${consoleTime(t, e.time)}</td><td><span class="event">${e.event}</span> ${eventLabel(t, e.event)}</td><td>${who(e.actor)}</td><td>${who(e.subject)}</td><td>${e.ip ?? ""}</td><td class="agent">${shortAgent(e.userAgent)}</td><td>${detailText(t, e.detail, e.event)}</td></tr>`,
      )}</tbody></table>`)}`}
${pagerLinks(t, "/support/audit", params, v.page, newer, older)}`;
  return supportPage(frame, t.text("console.nav.audit"), "audit", body);
}

/**
 * A record as the CSV export writes it for its reader. Support's export shows what support's pages show
 * (maskedDetail: addresses masked, a forward's display name dropped), or a download would undo the pages'
 * masking; an administrator's keeps the record whole, as `famos audit` does for the operator: they manage
 * the accounts and answer for the trail (README "Audit trail", SECURITY.md). Who is which: readsWholeRecords,
 * the administrator's pages' own role rule.
 */
export function exportedRecord(record: AuditRecord, reader: Pick<User, "role"> | null): AuditRecord {
  return readsWholeRecords(reader) ? record : { ...record, detail: maskedDetail(record.detail, record.event) };
}
