import type { MessageKey, Translator } from "../../i18n/translator.ts";
import { formatDateTime, maskEmail } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { SearchResult } from "../../support/search.ts";
import { enrolmentState } from "../../support/user-overview.ts";
import type { User } from "../../users/users.ts";
import { message, page } from "../layout.ts";
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

/** Every console page: the portal frame, wide, with the console's own navigation. */
export function supportPage(frame: PortalFrame, title: string, section: SupportSection, body: SafeHtml): string {
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
    portal: { csrf: frame.csrf, active: "/support", notices: noticeBanner(frame.t, frame.notices), isSupport: true },
  });
}

/** "Confirmed (j•••@dealer.example)", "Pending (…, waiting for its code)", "None". */
export function enrolmentText(user: User): string {
  const state = enrolmentState(user);
  if (state === "none") return "None: the user enters an address at the next sign-in";
  if (state === "pending") return `Pending: ${maskEmail(user.pending_email!)} is waiting for its code`;
  const change = user.pending_email ? `; change to ${maskEmail(user.pending_email)} waiting for its code` : "";
  return `Confirmed: ${maskEmail(user.otp_email!)}${change}`;
}

/** Previous / next links that keep the other query parameters. */
export function pager(base: string, params: Record<string, string>, page: number, hasNext: boolean): SafeHtml {
  if (page <= 1 && !hasNext) return html``;
  const link = (n: number) => `${base}?${new URLSearchParams({ ...params, page: String(n) }).toString()}`;
  return html`<nav class="pager" aria-label="Pages"><ul>
${page > 1 ? html`<li><a href="${link(page - 1)}" rel="prev">Previous page</a></li>` : ""}
<li>Page ${page}</li>
${hasNext ? html`<li><a href="${link(page + 1)}" rel="next">Next page</a></li>` : ""}
</ul></nav>`;
}

/** SPEC item 8, "Find users" (field "Search"). */
export function searchPage(frame: PortalFrame, v: { query: string; result: SearchResult | null; info?: string; disabledOnly?: boolean }): string {
  const tz = frame.t.timeZone;
  const r = v.result;
  const results = !r
    ? html`<p>Search by a part of the login ID, name, partner number or email address.</p>`
    : r.total === 0
      ? html`<p role="status">No user matches “${v.query}”${v.disabledOnly ? " among the disabled" : ""}.</p>`
      : html`<p role="status">${r.total} ${r.total === 1 ? "user matches" : "users match"} “${v.query}”${v.disabledOnly ? " among the disabled" : ""}${r.pageCount > 1 ? html` (page ${r.page} of ${r.pageCount})` : ""}.</p>
<table>
<caption class="visually-hidden">Users matching the search</caption>
<thead><tr><th scope="col">Login ID</th><th scope="col">Name</th><th scope="col">Partner number</th><th scope="col">Role</th><th scope="col">OTP email</th><th scope="col">Last sign-in</th></tr></thead>
<tbody>${r.users.map(
        (u) => html`<tr><td><a href="/support/users/${u.id}">${u.login_id}</a></td><td>${u.full_name}</td><td>${u.partner_number}</td><td>${u.role}${u.disabled_at !== null ? " (disabled)" : ""}</td><td>${enrolmentState(u) === "confirmed" ? maskEmail(u.otp_email!) : enrolmentState(u)}</td><td>${u.last_sign_in_at ? formatDateTime(u.last_sign_in_at, tz) : "never"}</td></tr>`,
      )}</tbody>
</table>
${pager("/support", { q: v.query, ...(v.disabledOnly ? { disabled: "yes" } : {}) }, r.page, r.page < r.pageCount)}`;
  const body = html`<h1>Support console</h1>
${message("info", v.info)}
<form method="get" action="/support" role="search" class="search">
  <label for="q">Search</label>
  <input type="search" id="q" name="q" value="${v.query}" maxlength="100" autocomplete="off">
  <p class="check"><input type="checkbox" id="disabled" name="disabled" value="yes"${v.disabledOnly ? html` checked` : ""}> <label for="disabled">Disabled</label></p>
  <div class="buttons"><button type="submit">Search</button></div>
</form>
${results}
<p><a href="/support/users/new">Create a user</a></p>`;
  return supportPage(frame, "Support console", "users", body);
}
