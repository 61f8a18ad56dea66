import { formatDateTime } from "../../platform/format.ts";
import { html } from "../../platform/html.ts";
import type { AddressLock } from "../../regulation/locks.ts";
import { csrfField, message } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage } from "./support-pages.ts";

/**
 * The addresses locked for new browsers after many failed sign-ins across login IDs (SPEC "Locks"),
 * each with "Unlock address". Staff of a dealership share one address, so this is where support
 * lets a site back in after someone's script or a misconfigured proxy tripped the lock.
 */
export function addressLocksPage(frame: PortalFrame, locks: AddressLock[], v: { info?: string; error?: string }): string {
  const tz = frame.t.timeZone;
  const rows = locks.map(
    (lock) => html`<tr><td>${lock.address}</td><td>${lock.failures}</td><td>${formatDateTime(lock.windowStartedAt, tz)}</td><td>${lock.lockedUntil ? formatDateTime(lock.lockedUntil, tz) : ""}</td>
<td><form method="post" action="/support/addresses/unlock">${csrfField(frame.csrf)}<input type="hidden" name="address" value="${lock.address}"><button type="submit">Unlock address</button></form></td></tr>`,
  );
  const body = html`<h1>Address locks</h1>
${message("info", v.info)}${message("error", v.error)}
<p>Addresses where many sign-ins failed across login IDs are paused for browsers that have not signed in there before. Browsers that have, and networks in FAMOS_TRUSTED_NETWORKS, are not affected.</p>
${locks.length === 0
  ? html`<p>No address is locked.</p>`
  : html`<table><caption>Addresses locked now</caption><thead><tr><th scope="col">Address</th><th scope="col">Failed sign-ins</th><th scope="col">Counted since</th><th scope="col">Locked until</th><th scope="col">Action</th></tr></thead>
<tbody>${rows}</tbody></table>`}`;
  return supportPage(frame, "Address locks", "addresses", body);
}
