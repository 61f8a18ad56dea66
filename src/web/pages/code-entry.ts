import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { lapsedText } from "../code-messages.ts";
import { csrfField, message, refusedField } from "../layout.ts";

/** Where a code went and when, as shown above every code form. */
export interface CodeDelivery {
  maskedEmail: string;
  sentAt: string | null;
  validUntil: string | null;
  /**
   * How long the code can still be confirmed, in ms from when the page was made (its expiry on FAMOS's
   * clock): the page's status module asks for the line no longer than that (public/delivery-status.js).
   */
  validForMs?: number | null;
  /** When the code was sent: the moment whose zone those clock times are named in (Translator.withZone), as the code's mail names it. */
  zoneAt: number | null;
  /** The outbox state of the code's mail: queued, sending, delayed (waiting to retry), notRelayed (the relay will not send to the address), sent, failed or bounced. */
  mailState: string | null;
  /**
   * The outbox still holds the mail for a try (otp/current-code.ts: mail_waiting): a "notRelayed" mail
   * that waits goes once the operator fixes the relay, so the page keeps asking.
   */
  mailWaiting?: boolean;
  /**
   * Why Regenerate OTP would not help (code-messages.ts regenerateRefusal: the flow has had its
   * FAMOS_OTP_PER_ATTEMPT codes, or no longer takes any), else null: a lapsed code then says it instead
   * of "Use Regenerate OTP", and that button is shown disabled, described by it.
   */
  noMoreCodes?: string | null;
  /** The flow no longer takes codes (otp/flows.ts flowTakesCodes): the page says so, whatever its code. */
  flowEnded?: boolean;
  /** The code can no longer be used (otp/codes.ts codeLapse): expired, or void after its last try. */
  lapsed?: "expired" | "void" | null;
  /** An earlier email to this address bounced hard and no code to it was confirmed since (issue 15). */
  undeliverable?: boolean;
  /** ... because its mailbox stayed full for days (bounce/addresses.ts fullMailbox): emptying it is the fix. */
  mailboxFull?: boolean;
  /** Delays the receiving mail servers reported for this address since its last confirmed code. */
  softBounces?: number;
  /**
   * The holder's login ID when the address is other login IDs' OTP email too: the mailbox holds
   * their codes' mails as well, alike but for the login ID each names.
   */
  sharedAs?: string | null;
}

/**
 * The mail is still on its way to the SMTP server: the page keeps itself current (issue 15). So is one
 * the relay would not relay ("notRelayed") while it waits for its next try: the operator may fix the
 * relay, and the staff member then sees it sent without reloading. Once failed, nothing changes it.
 */
export function deliveryPending(d: CodeDelivery): boolean {
  if (d.mailState === "notRelayed") return d.mailWaiting === true;
  return d.mailState === "queued" || d.mailState === "sending" || d.mailState === "delayed";
}

/** The mail will not reach the address (failed, refused by the mailbox, not relayed there): no code is "on its way". */
export function deliveryRefused(d: CodeDelivery): boolean {
  return d.mailState === "failed" || d.mailState === "bounced" || d.mailState === "notRelayed";
}

/** SPEC item 4: the page says where the code went, masked, when it was sent, and if sending failed. */
export function deliveryLine(t: Translator, d: CodeDelivery, newAddress = false): SafeHtml {
  // The sentence's last clock time names the zone, for both (a reader elsewhere, or a PC set to another zone).
  // In brackets, or after a space where the sentence already has the time in brackets ("(requested at 16:49 UK time)").
  const zoned = (time: string, bracketed = true) => (d.zoneAt === null ? time : t.withZone(time, d.zoneAt, bracketed));
  const to = newAddress ? t.html("delivery.toNew", { address: d.maskedEmail }) : html`<strong>${d.maskedEmail}</strong>`;
  const wrongEmail = html`<a href="/wrong-email">${t.text("wrongEmail.link")}</a>`;
  // A new address on Profile that refuses mail leaves the OTP email as it was: the user enters the new
  // one again (Cancel), and asking retail IT for a reset ("Entered a wrong email?") would only take
  // away the address that works.
  const cancel = t.text("button.cancel");
  if (d.mailState === "failed") return message("error", t.text("delivery.failed"));
  if (d.mailState === "bounced") return message("error", newAddress ? t.html("delivery.bouncedNew", { to, cancel }) : t.html("delivery.bounced", { to, wrongEmail }));
  if (d.mailState === "delayed") return message("warning", t.html("delivery.delayed", { to }));
  if (d.mailState === "notRelayed") {
    // While the mail waits it is still tried as long as its code works: the operator's fix brings it.
    if (newAddress) return message("error", t.html(d.mailWaiting ? "delivery.notRelayedWaitingNew" : "delivery.notRelayedNew", { to, cancel }));
    return message("error", t.html(d.mailWaiting ? "delivery.notRelayedWaiting" : "delivery.notRelayed", { to, wrongEmail }));
  }
  const yours = d.sharedAs ? html`<p class="delivery">${t.html("delivery.sharedMailbox", { loginId: html`<strong>${d.sharedAs}</strong>` })}</p>` : html``;
  if (d.mailState === "queued" || d.mailState === "sending") {
    return html`<p class="delivery">${d.sentAt ? t.html("delivery.sendingAt", { to, at: zoned(d.sentAt, false) }) : t.html("delivery.sending", { to })}</p>${yours}`;
  }
  const warning = d.undeliverable
    ? d.mailboxFull
      ? message("warning", t.html("delivery.mailboxFull", { to }))
      : message("warning", newAddress ? t.html("delivery.undeliverableNew", { to, cancel }) : t.html("delivery.undeliverable", { to, wrongEmail }))
    : d.softBounces
      ? message("warning", t.html("delivery.softBounces", { to }))
      : html``;
  if (d.sentAt) {
    return html`<p class="delivery">${d.validUntil ? t.html("delivery.sentUntil", { to, at: d.sentAt, until: zoned(d.validUntil) }) : t.html("delivery.sent", { to, at: zoned(d.sentAt) })}</p>${yours}${warning}`;
  }
  return html`<p class="delivery">${t.html("delivery.goesTo", { to })}</p>${yours}${warning}`;
}

/**
 * A code page opened again (a reload, Back) once its code can no longer be used says so, with what to
 * do, as a refused Confirm would (SPEC item 4); a refusal's own words take its place.
 */
export function codeProblem(t: Translator, d: CodeDelivery, error: string | SafeHtml | undefined): string | SafeHtml | undefined {
  if (error) return error;
  if (d.lapsed) return lapsedText(t, d.lapsed, d.noMoreCodes ?? null);
  if (d.flowEnded) return d.noMoreCodes ?? undefined;
  return undefined;
}

/**
 * The delivery line in a live region. While the mail is pending, a small served module (no inline
 * script: the CSP stays as it is) asks `statusUrl` for the line again every few seconds until the
 * mail has gone, failed or bounced, or the code can no longer be confirmed (validForMs).
 */
export function deliveryBlock(t: Translator, d: CodeDelivery, statusUrl: string, newAddress = false): SafeHtml {
  // A code that can no longer be confirmed: no delivery line can help, nothing to wait for.
  const pending = deliveryPending(d) && d.validForMs !== 0;
  const until = d.validForMs == null ? html`` : html` data-valid-for-ms="${String(d.validForMs)}"`;
  return html`<div id="delivery" aria-live="polite"${pending ? html` data-status-url="${statusUrl}"${until}` : ""}>${deliveryLine(t, d, newAddress)}</div>${
    pending ? html`<script type="module" src="/static/delivery-status.js"></script>` : ""
  }`;
}

/**
 * The code field with Confirm, Cancel and Regenerate OTP, after the reason a code was refused (wrong,
 * expired, void: codeProblem), if one was. One form, so all three buttons carry the CSRF token; Cancel
 * and Regenerate post to their own routes. The field keeps the cursor; a refusal marks it invalid and
 * describes it by the reason (WCAG 3.3.1), so a screen reader on the field hears why and the tries left.
 * `noMoreCodes`: why Regenerate OTP would not help (the flow has had its codes, or takes none); the
 * button stays on the page (SPEC screen 4 names the three buttons) but disabled, as pressing it would be
 * refused, and described by that reason (WCAG 1.3.1, 4.1.2): by the refusal when its words end with it,
 * else by a note under the buttons (a still-live last code: nothing refused, yet the button is off).
 */
export function codeForm(
  t: Translator,
  csrf: string,
  actions: { confirm: string; cancel: string; regenerate: string },
  problem: string | SafeHtml | undefined,
  noMoreCodes: string | null = null,
): SafeHtml {
  // Described by the reason only when it is on the page (message: none for a problem with no words).
  const reason = message("error", problem, "code-error");
  const refused = reason.value !== "";
  // The refusal's words already end with why Regenerate OTP is off (lapsedText, the cap's notice): one place says it.
  const said = noMoreCodes !== null && refused && typeof problem === "string" && problem.includes(noMoreCodes);
  const why = noMoreCodes === null ? null : said ? "code-error" : "regenerate-why";
  return html`${reason}<form method="post" action="${actions.confirm}" novalidate>
  ${csrfField(csrf)}
  <label for="code">${t.text("code.label")}</label>
  <input type="text" id="code" name="code" class="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 -]*" maxlength="12" required${refused ? refusedField("code-error", true) : html` autofocus`}>
  <div class="buttons">
    <button type="submit">${t.text("code.confirm")}</button>
    <button type="submit" class="secondary" formaction="${actions.cancel}" formnovalidate>${t.text("button.cancel")}</button>
    <button type="submit" class="secondary" formaction="${actions.regenerate}" formnovalidate${why === null ? "" : html` disabled aria-describedby="${why}"`}>${t.text("code.regenerate")}</button>
  </div>
  ${why === "regenerate-why" ? html`<p id="regenerate-why" class="advice">${noMoreCodes}</p>` : ""}
</form>`;
}
