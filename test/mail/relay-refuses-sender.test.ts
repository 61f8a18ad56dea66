import { describe, expect, it } from "vitest";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { MailDeliveryError, smtpTransport } from "../../src/mail/transport.ts";
import { outboxMessage } from "../support/outbox-message.ts";
import { relayRefusals } from "../support/relay-refusals.ts";

/**
 * A relay that refuses FAMOS's sender at MAIL FROM refuses every message alike, before any recipient is
 * named: a 5yz there is never about the recipient. The sender pauses as for a refused login
 * (src/mail/relay-pause.ts), keeps the mail queued, tells the operator once what to check, and sends
 * everything once the relay takes FAMOS's sender. A refusal of the message's declared size (552 5.3.4 to
 * MAIL FROM's SIZE=) is that message's alone: it fails, and the next message goes. Real smtp-server, SQLite,
 * the injected clock.
 */
describe("a relay that refuses FAMOS's sender at MAIL FROM", () => {
  const relay = relayRefusals((t) => t.smtp.refuseSender(false));
  const { announce, stateOf, states, warnings } = relay;

  it.each([
    [553, "5.7.1 <no-reply@famos.test>: Sender address rejected: not owned by user"],
    [550, "5.7.60 SMTP; Client does not have permissions to send as this sender"],
    [530, "5.7.57 Client not authenticated to send mail"],
    [550, "Sender verify failed"],
    [550, "5.7.0 Mail relay denied"],
  ])("%d %s: every message stays queued, the refusal is logged once with what to check, and all go once the relay takes the sender", async (code, words) => {
    const wave = [0, 1, 2].map((i) => `from${code}${words.length}n${i}`);
    relay.t.smtp.refuseSender(true, code, words);
    await announce(wave);
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["queued", "queued", "queued"]);
    expect(warnings()).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/the mail relay refuses FAMOS \(check .*FAMOS_MAIL_FROM/), err: expect.stringContaining(words) }),
    ]);

    relay.t.smtp.refuseSender(false);
    relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(1));
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["sent", "sent", "sent"]);
    expect(warnings().filter((r) => r.msg === "mail failed")).toEqual([]);
  });

  it("552 5.3.4 message size exceeds the limit, at MAIL FROM SIZE=: that message fails alone, nothing is paused, the next goes at once", async () => {
    relay.t.smtp.refuseSender(true, 552, "5.3.4 Message size exceeds fixed limit");
    await announce(["too-big"]);
    await relay.t.services.sender.drain();
    expect(await stateOf("too-big")).toBe("failed");
    relay.t.smtp.refuseSender(false);
    await announce(["after-big"]);
    await relay.t.services.sender.drain();
    expect(await stateOf("after-big")).toBe("sent");
    expect(warnings().filter((r) => /relay/.test(r.msg))).toEqual([]);
  });

  it("smtpTransport (relayRefusal): a 5yz to MAIL FROM is the relay's, waiting for the operator, unless it is about the message's own size or encoding, which fails it alone", async () => {
    const cases: [number, string, "relay" | "message"][] = [
      [553, "5.7.1 <no-reply@famos.test>: Sender address rejected: not owned by user", "relay"],
      [550, "5.7.60 SMTP; Client does not have permissions to send as this sender", "relay"],
      [530, "5.7.57 Client not authenticated to send mail", "relay"],
      [550, "Sender verify failed", "relay"],
      [550, "5.7.0 Mail relay denied", "relay"],
      [550, "5.1.8 Access denied, bad outbound sender", "relay"],
      [553, "5.1.7 Invalid sender address", "relay"],
      [554, "5.7.1 Your IP address is listed", "relay"],
      [550, "Administrative prohibition", "relay"],
      [552, "5.3.4 Message size exceeds fixed maximum message size", "message"],
      [552, "Message size exceeds fixed maximum message size", "message"],
      [554, "5.3.4 Message too big for system", "message"],
      [553, "5.6.7 Non-ASCII addresses require SMTPUTF8", "message"],
    ];
    const transport = smtpTransport(relay.t.smtp.url);
    try {
      for (const [code, words, whose] of cases) {
        relay.t.smtp.refuseSender(true, code, words);
        const error = await transport.send(outboxMessage(), "FAMOS <no-reply@famos.test>").then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(MailDeliveryError);
        const { permanent, relay: fault, addressRefused } = error as MailDeliveryError;
        expect([code, words, permanent, fault, addressRefused]).toEqual(whose === "relay" ? [code, words, false, "refused", null] : [code, words, true, null, null]);
      }
    } finally {
      transport.close();
      relay.t.smtp.refuseSender(false);
    }
  });
});
