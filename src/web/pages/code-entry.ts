import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField, message } from "../layout.ts";

/** Where a code went and when, as shown above every code form. */
export interface CodeDelivery {
  maskedEmail: string;
  sentAt: string | null;
  validUntil: string | null;
  /** The outbox state of the code's mail: queued, sending, delayed (waiting to retry), sent, failed or bounced. */
  mailState: string | null;
  /** An earlier email to this address bounced hard and no code to it was confirmed since (issue 15). */
  undeliverable?: boolean;
  /** Delays the receiving mail servers reported for this address since its last confirmed code. */
  softBounces?: number;
}

/** The mail is still on its way to the SMTP server: the page keeps itself current (issue 15). */
export function deliveryPending(d: CodeDelivery): boolean {
  return d.mailState === "queued" || d.mailState === "sending" || d.mailState === "delayed";
}

const WRONG_EMAIL = html`<a href="/wrong-email">Entered a wrong email?</a>`;

/** SPEC item 4: the page says where the code went, masked, when it was sent, and if sending failed. */
export function deliveryLine(d: CodeDelivery, addressWord = ""): SafeHtml {
  const to = html`${addressWord}<strong>${d.maskedEmail}</strong>`;
  if (d.mailState === "failed") return message("error", "Sending the email failed. Use Regenerate OTP to send a new code.");
  if (d.mailState === "bounced") {
    return message(
      "error",
      html`The email with your code could not be delivered to ${to}: the receiving mail server refused it. Check the address; if it is wrong, see ${WRONG_EMAIL}`,
    );
  }
  if (d.mailState === "delayed") {
    return message(
      "warning",
      html`The mail server has not taken the email for ${to} yet; FAMOS keeps trying. If it does not arrive in a few minutes, use Regenerate OTP. This page updates by itself.`,
    );
  }
  if (d.mailState === "queued" || d.mailState === "sending") {
    return html`<p class="delivery">The email with your code is being sent to ${to}${d.sentAt ? html` (requested at ${d.sentAt})` : ""}. This page updates by itself.</p>`;
  }
  const warning = d.undeliverable
    ? message("warning", html`An earlier email to ${to} could not be delivered, so this one may not arrive either. ${WRONG_EMAIL}`)
    : d.softBounces
      ? message("warning", html`The receiving mail server has reported delays for ${to}; the email may take longer to arrive.`)
      : html``;
  if (d.sentAt) {
    return html`<p class="delivery">We sent a code to ${to} at ${d.sentAt}${d.validUntil ? html`; it is valid until ${d.validUntil}` : ""}. Check your junk folder if it is not in your inbox within a minute.</p>${warning}`;
  }
  return html`<p class="delivery">Your codes go to ${to}.</p>${warning}`;
}

/**
 * The delivery line in a live region. While the mail is pending, a small served module (no inline
 * script: the CSP stays as it is) asks `statusUrl` for the line again every few seconds until the
 * mail has gone, failed or bounced.
 */
export function deliveryBlock(d: CodeDelivery, statusUrl: string, addressWord = ""): SafeHtml {
  const pending = deliveryPending(d);
  return html`<div id="delivery" aria-live="polite"${pending ? html` data-status-url="${statusUrl}"` : ""}>${deliveryLine(d, addressWord)}</div>${
    pending ? html`<script type="module" src="/static/delivery-status.js"></script>` : ""
  }`;
}

/**
 * The code field with Confirm, Cancel and Regenerate OTP. One form, so all three buttons carry the
 * CSRF token; Cancel and Regenerate post to their own routes.
 */
export function codeForm(csrf: string, actions: { confirm: string; cancel: string; regenerate: string }): SafeHtml {
  return html`<form method="post" action="${actions.confirm}" novalidate>
  ${csrfField(csrf)}
  <label for="code">Please enter the received code</label>
  <input type="text" id="code" name="code" class="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 -]*" maxlength="12" required autofocus>
  <div class="buttons">
    <button type="submit">Confirm</button>
    <button type="submit" class="secondary" formaction="${actions.cancel}" formnovalidate>Cancel</button>
    <button type="submit" class="secondary" formaction="${actions.regenerate}" formnovalidate>Regenerate OTP</button>
  </div>
</form>`;
}
