import type { Notice } from "../../notices/notices.ts";
import { NOTICE_BODY_MAX, NOTICE_TITLE_MAX } from "../../notices/notices.ts";
import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { labelledField, NO_PROBLEMS, problemSummary, textField, type FieldProblems } from "../field-problems.ts";
import { csrfField, message, scrollingTable } from "../layout.ts";
import { langAttribute, noticeLanguage, sentenceWith } from "../language-of-parts.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage, zonedDateTime } from "./support-pages.ts";

export interface NoticeFormView {
  title?: string;
  body?: string;
  /** Why the form was refused, by field ("title", "body"): all at once, each beside its field. */
  problems?: FieldProblems;
  info?: string;
}

function noticeFields(t: Translator, v: NoticeFormView): SafeHtml {
  const problems = v.problems ?? NO_PROBLEMS;
  return html`${textField(problems, { id: "title", label: t.text("console.notice.title"), hint: t.text("console.notice.titleHint"), value: v.title, maxlength: NOTICE_TITLE_MAX, required: true })}
  ${labelledField(problems, { id: "body", label: t.text("console.notice.text") }, (state) => html`<textarea id="body" name="body" rows="6" maxlength="${NOTICE_BODY_MAX}" required${state}>${v.body ?? ""}</textarea>`)}`;
}

function status(t: Translator, n: Notice): string {
  const values = { at: zonedDateTime(t, n.created_at), by: n.created_by, updated: n.updated_at ? zonedDateTime(t, n.updated_at) : "", ended: n.ended_at ? zonedDateTime(t, n.ended_at) : "" };
  const key = n.updated_at
    ? n.ended_at ? "console.notice.postedUpdatedEnded" : "console.notice.postedUpdated"
    : n.ended_at ? "console.notice.postedEnded" : "console.notice.posted";
  return t.text(key, values);
}

/** SPEC item 8, "post, edit and end portal notices": the list and the form for a new one. */
export function noticesPage(frame: PortalFrame, notices: Notice[], v: NoticeFormView): SafeHtml {
  const { t } = frame;
  const body = html`<h1>${t.text("console.nav.notices")}</h1>
${message("info", v.info)}
${notices.length === 0
    ? html`<p>${t.text("console.notice.none")}</p>`
    : scrollingTable("notices-caption", html`<table>
<caption class="visually-hidden" id="notices-caption">${t.text("console.notice.caption")}</caption>
<thead><tr><th scope="col">${t.text("console.notice.title")}</th><th scope="col">${t.text("console.notice.state")}</th><th scope="col">${t.text("console.notice.history")}</th></tr></thead>
<tbody>${notices.map(
        (n) => html`<tr><td><a href="/support/notices/${n.id}"${langAttribute(t, noticeLanguage(frame.config))}>${n.title}</a></td><td>${t.text(n.ended_at ? "console.notice.stateEnded" : "console.notice.stateLive")}</td><td>${status(t, n)}</td></tr>`,
      )}</tbody></table>`)}
<section aria-labelledby="new-heading">
<h2 id="new-heading">${t.text("console.notice.newHeading")}</h2>
${problemSummary(t, v.problems ?? NO_PROBLEMS)}
<form method="post" action="/support/notices" novalidate>
  ${csrfField(frame.csrf)}
  ${noticeFields(t, v)}
  <div class="buttons"><button type="submit">${t.text("console.notice.post")}</button></div>
</form>
</section>`;
  return supportPage(frame, t.text("console.nav.notices"), "notices", body);
}

/** One notice: its history, a link to how users see it, and (while live) Edit and End. */
export function noticeDetailPage(frame: PortalFrame, notice: Notice, v: NoticeFormView): SafeHtml {
  const { t } = frame;
  const live = notice.ended_at === null;
  const heading = t.text("console.notice.heading", { title: notice.title });
  const lang = noticeLanguage(frame.config);
  const body = html`<h1>${sentenceWith(t, "console.notice.heading", {}, "title", lang, notice.title)}</h1>
${message("info", v.info)}
<p>${t.text("console.notice.statusLine", { status: status(t, notice) })}</p>
<p><a href="/notices/${notice.id}">${t.text("console.notice.asUsersSee")}</a></p>
<div class="notice-body"${langAttribute(t, lang)}>${notice.body.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</div>
${live
    ? html`<section aria-labelledby="edit-heading">
<h2 id="edit-heading">${t.text("console.notice.edit")}</h2>
${problemSummary(t, v.problems ?? NO_PROBLEMS)}
<form method="post" action="/support/notices/${notice.id}" novalidate>
  ${csrfField(frame.csrf)}
  ${noticeFields(t, { title: v.title ?? notice.title, body: v.body ?? notice.body, problems: v.problems })}
  <div class="buttons"><button type="submit">${t.text("console.notice.save")}</button></div>
</form>
</section>
<section aria-labelledby="end-heading">
<h2 id="end-heading">${t.text("console.notice.end")}</h2>
<form method="post" action="/support/notices/${notice.id}/end">
  ${csrfField(frame.csrf)}
  <p>${t.text("console.notice.endIntro")}</p>
  <div class="buttons"><button type="submit">${t.text("console.notice.endButton")}</button></div>
</form>
</section>`
    : html`<p>${t.text("console.notice.endedNoEdit")}</p>`}
<p><a href="/support/notices">${t.text("console.notice.back")}</a></p>`;
  return supportPage(frame, heading, "notices", body);
}
