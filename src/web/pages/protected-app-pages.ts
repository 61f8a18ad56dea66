import type { Section } from "../../config/config.ts";
import { html } from "../../platform/html.ts";
import { portalPage, type PortalFrame } from "./portal-pages.ts";

/** The answer when the protected application is down or too slow: in the portal frame, no detail. */
export function applicationUnavailablePage(frame: PortalFrame, section: Section | undefined, timedOut: boolean): string {
  const name = section ? html`The ${section.label} section` : html`This part of FAMOS`;
  const what = timedOut ? "did not answer in time" : "is not available at the moment";
  return portalPage(
    frame,
    "Application not available",
    section?.path ?? null,
    html`<h1>Application not available</h1>
<div class="message error" role="alert">${name} ${what}.</div>
<p>If you were sending a form, it may not have reached the application: check before sending it again.</p>
<p>You are still signed in. Please try again in a few minutes; if the problem goes on, tell your retail IT
support at <a href="mailto:${frame.config.supportEmail}">${frame.config.supportEmail}</a>.</p>
<p><a href="/">Back to the FAMOS portal</a></p>`,
  );
}
