import { formatDateTime, maskEmail } from "../../platform/format.ts";
import { html } from "../../platform/html.ts";
import type { Attention } from "../../support/attention.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage } from "./support-pages.ts";

/** Issue 15: the console's "Needs attention" list: undeliverable OTP addresses, and shared ones. */
export function attentionPage(frame: PortalFrame, a: Attention): string {
  const tz = frame.t.timeZone;
  const undeliverable =
    a.undeliverable.length === 0
      ? html`<p>No OTP email is known to be undeliverable.</p>`
      : html`<table>
<caption class="visually-hidden">Users whose OTP email cannot be delivered to</caption>
<thead><tr><th scope="col">Login ID</th><th scope="col">Name</th><th scope="col">Partner number</th><th scope="col">Address</th><th scope="col">Undeliverable since</th><th scope="col">Reason</th></tr></thead>
<tbody>${a.undeliverable.map(
          (u) => html`<tr><td><a href="/support/users/${u.userId}">${u.loginId}</a></td><td>${u.fullName}</td><td>${u.partnerNumber}</td><td>${maskEmail(u.email)}${u.confirmed ? "" : " (waiting for its code)"}</td><td>${formatDateTime(u.at, tz)}</td><td>${u.reason ?? ""}</td></tr>`,
        )}</tbody></table>`;
  const shared =
    a.shared.length === 0
      ? html`<p>No address is the OTP email of more than one login ID.</p>`
      : html`<table>
<caption class="visually-hidden">Addresses that are the OTP email of more than one login ID</caption>
<thead><tr><th scope="col">Address</th><th scope="col">Login IDs</th></tr></thead>
<tbody>${a.shared.map(
          (s) => html`<tr><td>${maskEmail(s.address)}</td><td>${s.users.map((u, i) => html`${i > 0 ? ", " : ""}<a href="/support/users/${u.id}">${u.loginId}</a> (${u.fullName}, ${u.partnerNumber})`)}</td></tr>`,
        )}</tbody></table>`;
  const body = html`<h1>Needs attention</h1>
<section aria-labelledby="undeliverable-heading"><h2 id="undeliverable-heading">Undeliverable OTP email</h2>
<p>The receiving mail server refused a code email (a hard bounce). The user cannot get codes until the address is corrected: reset the OTP email when the user asks. A code confirmed at the address clears it.</p>
${undeliverable}</section>
<section aria-labelledby="shared-heading"><h2 id="shared-heading">Addresses shared by several login IDs</h2>
<p>Whoever reads such a mailbox gets the codes of every login ID on it.</p>
${shared}</section>`;
  return supportPage(frame, "Needs attention", "attention", body);
}
