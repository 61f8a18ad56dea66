import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { deliveryLine, deliveryPending, type CodeDelivery } from "../../src/web/pages/code-entry.ts";

/**
 * A code's mail the relay will not relay to its address ("notRelayed", src/otp/current-code.ts): the line says no
 * try and no new code will get there, and whom to ask — the retail IT team through "Entered a wrong
 * email?" for the OTP email, Cancel for a new address on Profile (a reset would take away the address that
 * works). The page keeps asking for the line again while the mail waits for its next try (the operator may
 * fix the relay: then it says sent), and stops once the mail has failed: nothing changes it then.
 */
describe("deliveryLine: notRelayed", () => {
  const t = translator("en-GB", "Europe/London");
  const d: CodeDelivery = { maskedEmail: "a•••@elsewhere.example", sentAt: "10:00", validUntil: "10:15", zoneAt: null, mailState: "notRelayed" };

  it("the OTP email: does not send there, Regenerate will not help, ask via Entered a wrong email?", () => {
    const line = deliveryLine(t, d).value;
    expect(line).toContain("FAMOS's mail server does not send email to <strong>a•••@elsewhere.example</strong>");
    expect(line).toContain("Regenerate OTP will not help");
    expect(line).toContain('<a href="/wrong-email">Entered a wrong email?</a>');
    expect(deliveryPending(d)).toBe(false);
    expect(deliveryPending({ ...d, mailWaiting: false })).toBe(false);
    expect(deliveryPending({ ...d, mailWaiting: true })).toBe(true);
  });

  it("while the mail waits for its next try: the code may still arrive once the mail server is put right, and the page will say so", () => {
    const waiting = deliveryLine(t, { ...d, mailWaiting: true }).value;
    expect(waiting).toContain("FAMOS's mail server does not send email to <strong>a•••@elsewhere.example</strong> at present");
    expect(waiting).toContain("Regenerate OTP will not help");
    expect(waiting).toContain("If the mail server is put right while this code is valid, the email will still arrive and this page will say so.");
    expect(waiting).not.toContain("cannot arrive");
    expect(waiting).toContain('<a href="/wrong-email">Entered a wrong email?</a>');
    const waitingNew = deliveryLine(t, { ...d, mailWaiting: true }, true).value;
    expect(waitingNew).toContain("the email will still arrive");
    expect(waitingNew).toContain("Your codes still go to your current address");
    expect(waitingNew).not.toContain("/wrong-email");
    // Failed at the code's expiry: nothing brings it now.
    expect(deliveryLine(t, { ...d, mailWaiting: false }).value).toContain("so the code cannot arrive there");
    expect(deliveryLine(t, { ...d, mailWaiting: false }, true).value).toContain("so the code cannot arrive there");
  });

  it("a new address on Profile: codes still go to the current one, Cancel and enter another; no reset link", () => {
    const line = deliveryLine(t, d, true).value;
    expect(line).toContain("does not send email to your new address");
    expect(line).toContain("Your codes still go to your current address");
    expect(line).not.toContain("/wrong-email");
  });
});
