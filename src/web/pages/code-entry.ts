import { html, type SafeHtml } from "../../platform/html.ts";
import { csrfField, message } from "../layout.ts";

/** Where a code went and when, as shown above every code form. */
export interface CodeDelivery {
  maskedEmail: string;
  sentAt: string | null;
  validUntil: string | null;
  /** The outbox state of the code's mail: queued, sending, delayed (waiting to retry), sent or failed. */
  mailState: string | null;
}

/** SPEC item 4: the page says where the code went, masked, when it was sent, and if sending failed. */
export function deliveryLine(d: CodeDelivery, addressWord = ""): SafeHtml {
  const to = html`${addressWord}<strong>${d.maskedEmail}</strong>`;
  if (d.mailState === "failed") return message("error", "Sending the email failed. Use Regenerate OTP to send a new code.");
  if (d.mailState === "delayed") {
    return message(
      "warning",
      html`The mail server has not taken the email for ${to} yet; FAMOS keeps trying. If it does not arrive in a few minutes, use Regenerate OTP.`,
    );
  }
  if (d.mailState === "queued" || d.mailState === "sending") {
    return html`<p class="delivery">The email with your code is being sent to ${to}${d.sentAt ? html` (requested at ${d.sentAt})` : ""}.</p>`;
  }
  if (d.sentAt) {
    return html`<p class="delivery">We sent a code to ${to} at ${d.sentAt}${d.validUntil ? html`; it is valid until ${d.validUntil}` : ""}.</p>`;
  }
  return html`<p class="delivery">Your codes go to ${to}.</p>`;
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
