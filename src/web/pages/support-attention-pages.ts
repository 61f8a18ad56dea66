import { maskEmail } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { scrollingTable } from "../layout.ts";
import { ATTENTION_LIMIT, type Attention } from "../../support/attention.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { consoleTime, supportPage, timeColumn } from "./support-pages.ts";

/** Issue 15: the console's "Needs attention" list: undeliverable OTP addresses, and shared ones. */
export function attentionPage(frame: PortalFrame, a: Attention): SafeHtml {
  const { t } = frame;
  const undeliverable =
    a.undeliverable.length === 0
      ? html`<p>${t.text("console.attention.noUndeliverable")}</p>`
      : scrollingTable("undeliverable-caption", html`<table>
<caption class="visually-hidden" id="undeliverable-caption">${t.text("console.attention.undeliverableCaption")}</caption>
<thead><tr><th scope="col">${t.text("field.loginId")}</th><th scope="col">${t.text("facts.name")}</th><th scope="col">${t.text("facts.partner")}</th><th scope="col">${t.text("console.col.address")}</th><th scope="col">${timeColumn(t, t.text("console.attention.since"), frame.now)}</th><th scope="col">${t.text("console.col.reason")}</th></tr></thead>
<tbody>${a.undeliverable.map(
          (u) => html`<tr><td><a href="/support/users/${u.userId}">${u.loginId}</a></td><td>${u.fullName}</td><td>${u.partnerNumber}</td><td>${u.confirmed ? maskEmail(u.email) : t.text("console.attention.waiting", { address: maskEmail(u.email) })}</td><td>${consoleTime(t, u.at)}</td><td>${u.reason ?? ""}${u.mailboxFull ? `; ${t.text("console.delivery.mailboxFull")}` : ""}</td></tr>`,
        )}</tbody></table>`);
  const shared =
    a.shared.length === 0
      ? html`<p>${t.text("console.attention.noShared")}</p>`
      : scrollingTable("shared-caption", html`<table>
<caption class="visually-hidden" id="shared-caption">${t.text("console.attention.sharedCaption")}</caption>
<thead><tr><th scope="col">${t.text("console.col.address")}</th><th scope="col">${t.text("console.attention.loginIds")}</th></tr></thead>
<tbody>${a.shared.map(
          (s) => html`<tr><td>${maskEmail(s.address)}</td><td>${s.users.map((u, i) => html`${i > 0 ? ", " : ""}<a href="/support/users/${u.id}">${u.loginId}</a> (${u.fullName}, ${u.partnerNumber})`)}</td></tr>`,
        )}</tbody></table>`);
  const body = html`<h1>${t.text("console.nav.attention")}</h1>
<section aria-labelledby="undeliverable-heading"><h2 id="undeliverable-heading">${t.text("console.attention.undeliverableHeading")}</h2>
<p>${t.text("console.attention.undeliverableIntro")}</p>
${undeliverable}${a.undeliverableMore ? html`<p role="status">${t.text("console.attention.undeliverableMore", { count: ATTENTION_LIMIT })}</p>` : ""}</section>
<section aria-labelledby="shared-heading"><h2 id="shared-heading">${t.text("console.attention.sharedHeading")}</h2>
<p>${t.text("console.attention.sharedIntro")}</p>
${shared}${a.sharedMore ? html`<p role="status">${t.text("console.attention.sharedMore", { count: ATTENTION_LIMIT })}</p>` : ""}</section>`;
  return supportPage(frame, t.text("console.nav.attention"), "attention", body);
}
