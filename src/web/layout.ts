import type { Config } from "../config/config.ts";
import type { Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";
import { langAttribute, sectionLanguage } from "./language-of-parts.ts";

export interface PageOptions {
  title: string;
  body: SafeHtml;
  config: Readonly<Config>;
  /** The reader's language and zone (issue 16): every word of the frame comes from its catalogue. */
  t: Translator;
  /** Portal pages have the tab bar and Sign out; sign-in pages don't. */
  portal?: { csrf: string; active: string | null; notices: SafeHtml; isSupport: boolean };
  /** Pages of tables (the support console) use the wider content area. */
  wide?: boolean;
}

/**
 * Every FAMOS page: the guide's frame with the footer of SPEC item 5. No inline script anywhere (CSP).
 * Sent as SafeHtml, whole: it carries the kept parts it holds (platform/html.ts) to the answer.
 */
export function page(options: PageOptions): SafeHtml {
  const { config, portal, t } = options;
  const tabs = portal
    ? html`<nav class="tabs" aria-label="${t.text("layout.sections")}"><ul>
        ${config.sections.map((s) => html`<li><a href="${s.path}"${langAttribute(t, sectionLanguage(config, s))}${portal.active === s.path ? html` aria-current="page"` : ""}>${s.label}</a></li>`)}
        <li><a href="/profile"${portal.active === "/profile" ? html` aria-current="page"` : ""}>${t.text("layout.profile")}</a></li>
        ${portal.isSupport ? html`<li><a href="/support"${portal.active === "/support" ? html` aria-current="page"` : ""}>${t.text("layout.support")}</a></li>` : ""}
      </ul></nav>`
    : "";
  const signOut = portal
    ? html`<form method="post" action="/logout" class="signout"><input type="hidden" name="_csrf" value="${portal.csrf}"><button type="submit">${t.text("layout.signOut")}</button></form>`
    : "";
  return html`<!doctype html>
<html lang="${t.locale}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} – FAMOS</title>
<link rel="stylesheet" href="/static/famos.css">
</head>
<body>
<a class="skip" href="#main">${t.text("layout.skip")}</a>
<header class="masthead">
  <span class="brand">FAMOS</span>
  ${signOut}
</header>
${portal ? portal.notices : ""}
${tabs}
<main id="main"${options.wide ? html` class="wide"` : ""}>
${options.body}
</main>
<footer class="footer">
  <p>${config.footer.versionLabel}${config.footer.copyright ? html` &nbsp; ${config.footer.copyright}` : ""}</p>
  <p><a href="${config.footer.legalUrl ?? "/legal"}">${t.text("layout.legal")}</a></p>
</footer>
</body>
</html>`;
}

/**
 * A labelled message region; errors are announced by screen readers (role=alert). None for a text with
 * no words (empty, spaces, empty HTML): an empty alert announces nothing, and a field described by it
 * would point at nothing.
 */
export function message(kind: "error" | "info" | "warning", text: string | SafeHtml | null | undefined, id?: string): SafeHtml {
  if (!text || String(text).trim() === "") return html``;
  return html`<div class="message ${kind}" role="${kind === "error" ? "alert" : "status"}"${id ? html` id="${id}"` : ""}>${text}</div>`;
}

/**
 * A form refused: its first field takes the cursor (autofocus, which also scrolls it into view: on a
 * long page, or a phone's, the page otherwise opens at its top with the reason out of sight), is marked
 * invalid and is described by the reason, so a screen reader reads it with the field (WCAG 3.3.1), as
 * the console's fields are (fieldState). A field with advice of its own (`hintId`) is described by it
 * either way, after the reason. `focus` (default: `refused`) is for a form whose refused field is not
 * where typing starts again (Profile's password change empties all three fields: the cursor goes to the
 * first, read with the reason, while the new password is the one marked); a field that takes the
 * cursor after a refusal is described by the reason too.
 */
export function refusedField(errorId: string, refused: boolean, hintId?: string, focus = refused): SafeHtml {
  const described = [refused || focus ? errorId : "", hintId ?? ""].filter(Boolean).join(" ");
  return html`${focus ? html` autofocus` : ""}${refused ? html` aria-invalid="true"` : ""}${described ? html` aria-describedby="${described}"` : ""}`;
}

/**
 * A data table in a region of its own that scrolls sideways when the table is wider than the window
 * (WCAG 1.4.10 lets a data table keep its columns), its words kept whole (famos.css .table-scroll):
 * squeezed into a phone's 360 px instead, words broke letter by letter ("Últim/a/activi/dad" on
 * Profile's sessions, a login ID as "st/af/f./nl" in the console, a partner number as "01/23/4" on
 * Rollout). Focusable, so a keyboard can scroll it; named by `labelledBy`, the id of the table's own
 * caption (visually hidden if need be), never its section's heading: that heading already names the
 * section's region, and two landmarks of one name read twice in a screen reader's list (axe
 * landmark-unique; region-names-browser.test).
 */
export function scrollingTable(labelledBy: string, table: SafeHtml): SafeHtml {
  return html`<div class="table-scroll" role="region" tabindex="0" aria-labelledby="${labelledBy}">${table}</div>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
