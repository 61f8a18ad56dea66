import type { Notice } from "../../notices/notices.ts";
import { NOTICE_BODY_MAX, NOTICE_TITLE_MAX } from "../../notices/notices.ts";
import { formatDateTime } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField, message } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage } from "./support-pages.ts";

export interface NoticeFormView {
  title?: string;
  body?: string;
  error?: string;
  info?: string;
}

function noticeFields(v: NoticeFormView): SafeHtml {
  return html`<label for="title">Title</label>
  <p class="advice" id="titleHint">Shown on the banner as “Title &lt;date time&gt; Please click for more info”, for example “Application Issue”.</p>
  <input type="text" id="title" name="title" value="${v.title ?? ""}" maxlength="${NOTICE_TITLE_MAX}" aria-describedby="titleHint" required>
  <label for="body">Text</label>
  <textarea id="body" name="body" rows="6" maxlength="${NOTICE_BODY_MAX}" required>${v.body ?? ""}</textarea>`;
}

function status(n: Notice, tz: string): string {
  const posted = `Posted ${formatDateTime(n.created_at, tz)} by ${n.created_by}`;
  const updated = n.updated_at ? `, UPDATED ${formatDateTime(n.updated_at, tz)}` : "";
  return n.ended_at ? `${posted}${updated}, ended ${formatDateTime(n.ended_at, tz)}` : `${posted}${updated}`;
}

/** SPEC item 8, "post, edit and end portal notices": the list and the form for a new one. */
export function noticesPage(frame: PortalFrame, notices: Notice[], v: NoticeFormView): string {
  const tz = frame.t.timeZone;
  const body = html`<h1>Notices</h1>
${message("info", v.info)}
${notices.length === 0
    ? html`<p>No notices yet.</p>`
    : html`<table>
<caption class="visually-hidden">Notices, live ones first</caption>
<thead><tr><th scope="col">Title</th><th scope="col">State</th><th scope="col">History</th></tr></thead>
<tbody>${notices.map(
        (n) => html`<tr><td><a href="/support/notices/${n.id}">${n.title}</a></td><td>${n.ended_at ? "ended" : "on the banner"}</td><td>${status(n, tz)}</td></tr>`,
      )}</tbody></table>`}
<section aria-labelledby="new-heading">
<h2 id="new-heading">Post a notice</h2>
${message("error", v.error)}
<form method="post" action="/support/notices" novalidate>
  ${csrfField(frame.csrf)}
  ${noticeFields(v)}
  <div class="buttons"><button type="submit">Post notice</button></div>
</form>
</section>`;
  return supportPage(frame, "Notices", "notices", body);
}

/** One notice: its history, a link to how users see it, and (while live) Edit and End. */
export function noticeDetailPage(frame: PortalFrame, notice: Notice, v: NoticeFormView): string {
  const tz = frame.t.timeZone;
  const live = notice.ended_at === null;
  const body = html`<h1>Notice: ${notice.title}</h1>
${message("info", v.info)}
<p>${status(notice, tz)}.</p>
<p><a href="/notices/${notice.id}">The notice as users see it</a></p>
<div class="notice-body">${notice.body.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</div>
${live
    ? html`<section aria-labelledby="edit-heading">
<h2 id="edit-heading">Edit</h2>
${message("error", v.error)}
<form method="post" action="/support/notices/${notice.id}" novalidate>
  ${csrfField(frame.csrf)}
  ${noticeFields({ title: v.title ?? notice.title, body: v.body ?? notice.body })}
  <div class="buttons"><button type="submit">Save changes</button></div>
</form>
</section>
<section aria-labelledby="end-heading">
<h2 id="end-heading">End</h2>
<form method="post" action="/support/notices/${notice.id}/end">
  ${csrfField(frame.csrf)}
  <p>Takes the notice off the banner. Its page stays, marked as ended.</p>
  <div class="buttons"><button type="submit">End notice</button></div>
</form>
</section>`
    : html`<p>This notice has ended and can no longer be edited.</p>`}
<p><a href="/support/notices">Back to Notices</a></p>`;
  return supportPage(frame, `Notice: ${notice.title}`, "notices", body);
}
