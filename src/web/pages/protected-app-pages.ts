import type { Section } from "../../config/sections.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { portalPage, type PortalFrame } from "./portal-pages.ts";

/** The answer when the protected application is down or too slow: in the portal frame, no detail. */
export function applicationUnavailablePage(frame: PortalFrame, section: Section | undefined, timedOut: boolean): SafeHtml {
  const { t } = frame;
  const key = section ? (timedOut ? "unavailable.sectionSlow" : "unavailable.sectionDown") : timedOut ? "unavailable.partSlow" : "unavailable.partDown";
  const support = frame.config.supportEmail;
  return portalPage(
    frame,
    t.text("unavailable.heading"),
    section?.path ?? null,
    html`<h1>${t.text("unavailable.heading")}</h1>
<div class="message error" role="alert">${t.text(key, { section: section?.label ?? "" })}</div>
<p>${t.text("unavailable.form")}</p>
<p>${t.html("unavailable.stillSignedIn", { support: html`<a href="mailto:${support}">${support}</a>` })}</p>
<p><a href="/">${t.text("unavailable.back")}</a></p>`,
  );
}
