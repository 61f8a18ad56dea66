import type { MessageKey, Translator } from "../../i18n/translator.ts";
import { maskEmail } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { PastEnd } from "../../support/paging.ts";
import { SEARCH_NUMBERED_PAGES, type SearchResult } from "../../support/search.ts";
import { enrolmentState } from "../../support/user-overview.ts";
import type { User } from "../../users/users.ts";
import { roleName } from "./role-name.ts";
import { message, page, scrollingTable } from "../layout.ts";
import { noticeBanner, type PortalFrame } from "./portal-pages.ts";

export type SupportSection = "users" | "audit" | "notices" | "addresses" | "attention" | "rollout";

const SECTIONS: [SupportSection, string, MessageKey][] = [
  ["users", "/support", "console.nav.users"],
  ["audit", "/support/audit", "console.nav.audit"],
  ["notices", "/support/notices", "console.nav.notices"],
  ["addresses", "/support/addresses", "console.nav.addresses"],
  ["attention", "/support/attention", "console.nav.attention"],
  ["rollout", "/support/rollout", "console.nav.rollout"],
];

/**
 * A time on the console: the local form in the support user's zone and language, and beside it the
 * unambiguous ISO 8601 form with the offset (issue 16), the same in every language.
 */
export function consoleTime(t: Translator, ms: number): SafeHtml {
  const iso = t.iso(ms);
  return html`<time datetime="${iso}">${t.dateTime(ms)}</time> <span class="iso">${iso}</span>`;
}

/**
 * Every clock time on the console names its zone, through Translator.withZone, in the way that reads
 * best where it stands. A table names it once, in the heading of its column of times ("Last sign-in
 * (UK time)"), so a reader scanning the column reads times, not the zone again on every row (its
 * cells: consoleTime, or the time alone). A sentence names it beside each time (zonedDateTime).
 */
export function timeColumn(t: Translator, label: string, now: number): string {
  return t.withZone(label, now);
}

/**
 * A time inside a sentence, with its zone: "until 01/12/2026 14:05 (UK time)", or without brackets
 * ("… UK time") where the sentence has brackets of its own around or right after the time.
 */
export function zonedDateTime(t: Translator, ms: number, bracketed = true): string {
  return t.withZone(t.dateTime(ms), ms, bracketed);
}

/** Every console page: the portal frame, wide, with the console's own navigation. */
export function supportPage(frame: PortalFrame, title: string, section: SupportSection, body: SafeHtml): SafeHtml {
  const { t } = frame;
  const nav = html`<nav class="subnav" aria-label="${t.text("console.label")}"><ul>${SECTIONS.map(
    ([key, href, label]) => html`<li><a href="${href}"${key === section ? html` aria-current="page"` : ""}>${t.text(label)}</a></li>`,
  )}</ul></nav>`;
  return page({
    title,
    config: frame.config,
    t: frame.t,
    wide: true,
    body: html`${nav}${body}`,
    portal: { csrf: frame.csrf, active: "/support", notices: noticeBanner(frame), isSupport: true },
  });
}

/**
 * "Confirmed: j•••@dealer.example", "Pending: … is waiting for its code", "None: …"; `pending` is the
 * address waiting for its code (profile/waiting-address.ts), so a change that ended says nothing.
 */
export function enrolmentText(t: Translator, user: User, pending: string | null): string {
  const state = enrolmentState(user);
  if (state === "none") return t.text("console.enrolment.none");
  if (state === "pending") return t.text("console.enrolment.pending", { address: maskEmail(user.pending_email!) });
  const address = maskEmail(user.otp_email!);
  return pending ? t.text("console.enrolment.confirmedChange", { address, pending: maskEmail(pending) }) : t.text("console.enrolment.confirmed", { address });
}

/** Previous / next links that keep the other query parameters: to the pages numbered either side. */
export function pager(t: Translator, base: string, params: Record<string, string>, page: number, hasNext: boolean): SafeHtml {
  return pagerLinks(t, base, params, page, page > 1 ? { page: String(page - 1) } : null, hasNext ? { page: String(page + 1) } : null);
}

/**
 * Previous / next links, each with the query parameters it adds to `params` (a page number, or the row
 * a keyset page continues from, src/support/audit-trail.ts), or null for none.
 */
export function pagerLinks(t: Translator, base: string, params: Record<string, string>, page: number, previous: Record<string, string> | null, next: Record<string, string> | null): SafeHtml {
  if (!previous && !next) return html``;
  const link = (to: Record<string, string>) => `${base}?${new URLSearchParams({ ...params, ...to }).toString()}`;
  return html`<nav class="pager" aria-label="${t.text("console.pager.label")}"><ul>
${previous ? html`<li><a href="${link(previous)}" rel="prev">${t.text("console.pager.previous")}</a></li>` : ""}
<li>${t.text("console.pager.page", { page })}</li>
${next ? html`<li><a href="${link(next)}" rel="next">${t.text("console.pager.next")}</a></li>` : ""}
</ul></nav>`;
}

/**
 * Above a paged list shown at its last page because the page asked for is past the end
 * (src/support/paging.ts): says so, so a reader who followed an old link knows why.
 */
export function pastEndNote(t: Translator, pastEnd: PastEnd | null): SafeHtml {
  return message("info", pastEnd && t.text("console.pager.pastEnd", { asked: pastEnd.asked, pages: pastEnd.pageCount }));
}

/** SPEC item 8, "Find users" (field "Search"). */
export function searchPage(frame: PortalFrame, v: { query: string; result: SearchResult | null; info?: string; disabledOnly?: boolean }): SafeHtml {
  const { t } = frame;
  const r = v.result;
  const more = r && r.pageCount > 1 ? t.text("console.search.pageOf", { page: r.page, pages: r.pageCount }) : "";
  // "Disabled" alone, no words: every disabled user, said as such (not as matching “”).
  const allDisabled = v.disabledOnly === true && v.query.trim() === "";
  const found = (count: number) => t.text(allDisabled ? "console.search.allDisabled" : v.disabledOnly ? "console.search.foundDisabled" : "console.search.found", { count, query: v.query, more });
  const none = () => (allDisabled ? t.text("console.search.noneDisabledAtAll") : t.text(v.disabledOnly ? "console.search.noneDisabled" : "console.search.none", { query: v.query }));
  const enrolment = (u: User) => {
    const state = enrolmentState(u);
    return state === "confirmed" ? maskEmail(u.otp_email!) : t.text(state === "none" ? "console.state.none" : "console.state.pending");
  };
  const results = !r
    ? html`<p>${t.text("console.search.intro")}</p>`
    : r.total === 0
      ? html`<p role="status">${none()}</p>`
      : html`${pastEndNote(t, r.pastEnd)}${message("info", r.pageLimit && t.text("console.search.pageLimit", r.pageLimit))}<p role="status">${found(r.total)}</p>
${scrollingTable("search-caption", html`<table>
<caption class="visually-hidden" id="search-caption">${t.text("console.search.caption")}</caption>
<thead><tr><th scope="col">${t.text("field.loginId")}</th><th scope="col">${t.text("facts.name")}</th><th scope="col">${t.text("facts.partner")}</th><th scope="col">${t.text("console.role")}</th><th scope="col">${t.text("facts.otpEmail")}</th><th scope="col">${timeColumn(t, t.text("console.lastSignIn"), frame.now)}</th></tr></thead>
<tbody>${r.users.map(
        (u) => html`<tr><td><a href="/support/users/${u.id}">${u.login_id}</a></td><td>${u.full_name}</td><td>${u.partner_number}</td><td>${u.disabled_at !== null ? t.text("console.search.roleDisabled", { role: roleName(t, u.role) }) : roleName(t, u.role)}</td><td>${enrolment(u)}</td><td>${u.last_sign_in_at ? consoleTime(t, u.last_sign_in_at) : t.text("console.never")}</td></tr>`,
      )}</tbody>
</table>`)}
${pager(t, "/support", { q: v.query, ...(v.disabledOnly ? { disabled: "yes" } : {}) }, r.page, r.page < Math.min(r.pageCount, SEARCH_NUMBERED_PAGES))}`;
  const body = html`<h1>${t.text("console.label")}</h1>
${message("info", v.info)}
<form method="get" action="/support" role="search" class="search">
  <label for="q">${t.text("console.search.field")}</label>
  <input type="search" id="q" name="q" value="${v.query}" maxlength="100" autocomplete="off">
  <p class="check"><input type="checkbox" id="disabled" name="disabled" value="yes"${v.disabledOnly ? html` checked` : ""}> <label for="disabled">${t.text("console.search.disabled")}</label></p>
  <div class="buttons"><button type="submit">${t.text("console.search.field")}</button></div>
</form>
${results}
<p><a href="/support/users/new">${t.text("console.newUser.heading")}</a></p>`;
  return supportPage(frame, t.text("console.label"), "users", body);
}
