import { formatDateTime } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { FactorSummary } from "../../strong-factors/factors.ts";
import type { User } from "../../users/users.ts";
import { csrfField } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage } from "./support-pages.ts";

/** "1 passkey (last used …); authenticator app (last used …); 7 recovery codes left" or "Emailed code only". */
export function factorsText(f: FactorSummary, tz: string): string {
  const used = (at: number | null) => (at === null ? "never used" : `last used ${formatDateTime(at, tz)}`);
  const parts: string[] = [];
  if (f.passkeys > 0) parts.push(`${f.passkeys} ${f.passkeys === 1 ? "passkey" : "passkeys"} (${used(f.passkeysLastUsedAt)})`);
  if (f.app) parts.push(`authenticator app (set up ${formatDateTime(f.app.confirmedAt, tz)}, ${used(f.app.lastUsedAt)})`);
  else if (f.appPending) parts.push("authenticator app being set up (not confirmed)");
  if (f.recoveryCodesLeft > 0 || f.recoveryCodesLastUsedAt !== null) {
    parts.push(`${f.recoveryCodesLeft} recovery ${f.recoveryCodesLeft === 1 ? "code" : "codes"} left${f.recoveryCodesLastUsedAt ? ` (one ${used(f.recoveryCodesLastUsedAt)})` : ""}`);
  }
  return parts.length > 0 ? parts.join("; ") : "Emailed code only";
}

const anyFactor = (f: FactorSummary) => f.passkeys > 0 || f.app !== null || f.appPending || f.recoveryCodesLeft > 0;

/** The console's "Remove second factors" (issue 13), or why this person may not. */
export function factorsRemovalSection(user: User, f: FactorSummary, csrf: string, refused: string | null): SafeHtml {
  if (!anyFactor(f)) return html``;
  if (refused) return html`<section aria-labelledby="factors-heading"><h2 id="factors-heading">Second factors</h2><p class="message warning" role="status">${refused}</p></section>`;
  return html`<section aria-labelledby="factors-heading"><h2 id="factors-heading">Second factors</h2>
<form method="post" action="/support/users/${user.id}/factors">${csrfField(csrf)}
<p>For a user who lost the phone with the authenticator app or the passkeys: removes them and the recovery codes. You confirm on the next page.</p>
<div class="buttons"><button type="submit">Remove second factors</button></div></form></section>`;
}

/** The confirmation step: what the removal does. */
export function factorsConfirmPage(frame: PortalFrame, user: User, f: FactorSummary, tz: string): string {
  const body = html`<h1>Remove the second factors of ${user.login_id}?</h1>
<p>${user.full_name} has: ${factorsText(f, tz)}.</p>
<p>The removal:</p>
<ul>
  <li>deletes the passkeys, the authenticator app and the recovery codes, which then no longer work;</li>
  <li>signs ${user.full_name} out everywhere, and tells the OTP email of the removal;</li>
  <li>lets the user sign in with an emailed code again; a user whose role needs a passkey or an app is asked to set one up at once.</li>
</ul>
<p>Check first that the request comes from the user (a call back on a known number, or in person).</p>
<form method="post" action="/support/users/${user.id}/factors/confirm" novalidate>
  ${csrfField(frame.csrf)}
  <label for="ticket">Ticket reference (optional)</label>
  <input type="text" id="ticket" name="ticket" maxlength="200" autocomplete="off">
  <div class="buttons"><button type="submit">Confirm removal</button> <a class="button secondary" href="/support/users/${user.id}">Cancel</a></div>
</form>`;
  return supportPage(frame, "Confirm the removal", "users", body);
}
