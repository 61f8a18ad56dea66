import { html, type SafeHtml } from "../../platform/html.ts";
import type { AddressLock } from "../../regulation/locks.ts";
import { csrfField, message, scrollingTable } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { consoleTime, supportPage, timeColumn } from "./support-pages.ts";
import { shownAddress } from "../../regulation/address.ts";

/**
 * The addresses locked for new browsers after many failed sign-ins across login IDs (SPEC "Locks"),
 * each with "Unlock address". Staff of a dealership share one address, so this is where support
 * lets a site back in after someone's script or a misconfigured proxy tripped the lock.
 */
export function addressLocksPage(frame: PortalFrame, locks: AddressLock[], v: { info?: string; error?: string }): SafeHtml {
  const { t } = frame;
  const rows = locks.map(
    (lock) => html`<tr><td>${shownAddress(lock.address)}</td><td>${lock.failures}</td><td>${consoleTime(t, lock.windowStartedAt)}</td><td>${lock.lockedUntil ? consoleTime(t, lock.lockedUntil) : ""}</td>
<td><form method="post" action="/support/addresses/unlock">${csrfField(frame.csrf)}<input type="hidden" name="address" value="${lock.address}"><button type="submit">${t.text("console.addresses.unlock")}</button></form></td></tr>`,
  );
  const body = html`<h1>${t.text("console.nav.addresses")}</h1>
${message("info", v.info)}${message("error", v.error)}
<p>${t.text("console.addresses.intro")}</p>
${locks.length === 0
  ? html`<p>${t.text("console.addresses.none")}</p>`
  : scrollingTable("addresses-caption", html`<table><caption id="addresses-caption">${t.text("console.addresses.caption")}</caption><thead><tr><th scope="col">${t.text("console.col.address")}</th><th scope="col">${t.text("console.addresses.failures")}</th><th scope="col">${timeColumn(t, t.text("console.addresses.since"), frame.now)}</th><th scope="col">${timeColumn(t, t.text("console.addresses.until"), frame.now)}</th><th scope="col">${t.text("console.col.action")}</th></tr></thead>
<tbody>${rows}</tbody></table>`)}`;
  return supportPage(frame, t.text("console.nav.addresses"), "addresses", body);
}
