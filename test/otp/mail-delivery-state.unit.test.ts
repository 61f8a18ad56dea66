import { describe, expect, it } from "vitest";
import { mailDeliveryState } from "../../src/otp/current-code.ts";

const mail = (state: string, bounce: string | null = null, attempts = 1, fault: string | null = null) => ({ state, attempts, bounce, fault });

describe("a code mail's delivery state on OTP capture (mailDeliveryState)", () => {
  it("a report of the message is proof it left: a soft report while the sender has not yet recorded its send is 'sent', not 'being sent'", () => {
    // Seen in CI under load: the relay took the mail, its report arrived (a mailbox full), and the sender's own
    // write of 'sent' came after; OTP capture said "being sent" and hid the address's warning.
    for (const state of ["sending", "queued"]) {
      expect(mailDeliveryState(mail(state, "soft")), state).toEqual({ mail_state: "sent", mail_waiting: false });
    }
    expect(mailDeliveryState(mail("sent", "soft"))).toEqual({ mail_state: "sent", mail_waiting: false });
  });

  it("a hard report is 'bounced' whatever the sender recorded", () => {
    for (const state of ["sending", "queued", "sent"]) expect(mailDeliveryState(mail(state, "hard")), state).toEqual({ mail_state: "bounced", mail_waiting: false });
  });

  it("without a report: as the outbox says", () => {
    expect(mailDeliveryState(mail("sending", null))).toEqual({ mail_state: "sending", mail_waiting: true });
    expect(mailDeliveryState(mail("queued", null, 0))).toEqual({ mail_state: "queued", mail_waiting: true });
    expect(mailDeliveryState(mail("queued", null, 2))).toEqual({ mail_state: "delayed", mail_waiting: true });
    expect(mailDeliveryState(mail("queued", null, 2, "relaying"))).toEqual({ mail_state: "notRelayed", mail_waiting: true });
    expect(mailDeliveryState(mail("failed", null, 5, "relaying"))).toEqual({ mail_state: "notRelayed", mail_waiting: false });
    expect(mailDeliveryState(mail("sent", null))).toEqual({ mail_state: "sent", mail_waiting: false });
  });

  it("a relay refusal of an earlier try no longer shows once the relay was fixed and a later try is under way or taken", () => {
    // The fault stays on the row from the refused try; the state says what became of the mail since.
    expect(mailDeliveryState(mail("sending", null, 2, "relaying"))).toEqual({ mail_state: "sending", mail_waiting: true });
    expect(mailDeliveryState(mail("sent", null, 3, "relaying"))).toEqual({ mail_state: "sent", mail_waiting: false });
  });
});
