import { describe, expect, it } from "vitest";
import { failureOf, relayRefusalOf } from "../../src/mail/smtp-replies.ts";

// Relays repeat the recipient in their reply ("<jane@helo-motors.example>: Access denied"), and the
// address is user-typed: \b finds a word across - . @, so a word of the relay's own (helo, relay, sender,
// spam, policy) in an address must count for nothing, whatever the reply says of it.
const rcpt = (responseCode: number, response: string) => ({ code: "EENVELOPE", command: "RCPT TO", responseCode, response });

describe("a word of the relay's in the recipient's own <address>", () => {
  it.each(["jane@helo-motors.example", "relay@dealer.example", "sender@dealer.example", "jane@spam-free.example", "policy@dealer.example"])(
    "a per-recipient 5.7.1 refusal echoing <%s> fails for good, the recipient's policy", (address) => {
      // Postfix check_recipient_access REJECT for one domain: no mailbox words, the address echoed.
      expect(failureOf(rcpt(554, `554 5.7.1 <${address}>: Access denied`))).toMatchObject({ permanent: true, relay: null, refusedByPolicy: true, fault: null });
    });
  it("the same refusal for <jane@other-motors.example> fails for good (control)", () => {
    expect(failureOf(rcpt(554, "554 5.7.1 <jane@other-motors.example>: Access denied"))).toMatchObject({ permanent: true, relay: null, fault: null });
  });
  it.each(["helo@dealer.example", "relay@dealer.example", "sender@dealer.example", "spam@dealer.example", "policy@dealer.example"])(
    "a bare no-such-user for <%s> blames the address", (address) => {
      expect(failureOf(rcpt(550, `550 <${address}>: no such user here`))).toMatchObject({ permanent: true, addressRefused: { status: null }, fault: "address" });
    });
  it("Relay access denied for <helo@dealer.example> is 'relaying', not 'client'", () => {
    expect(relayRefusalOf(rcpt(554, "554 5.7.1 <helo@dealer.example>: Relay access denied"))).toBe("relaying");
  });
  // A quoted local part (RFC 5321 §4.1.2) may hold whole phrases: what the relay refuses is read from its
  // words alone, for the kind (relayRefusalOf) as for whether it waits.
  it("a client host phrase in a quoted <address> makes no client refusal of a sender refusal", () => {
    expect(relayRefusalOf(rcpt(553, '553 5.7.1 <"client host rejected"@dealer.example>: Sender address rejected: not owned by user famos'))).toBe("sender");
  });
  it("a relaying phrase in a quoted <address> makes no relaying refusal of a client host refusal", () => {
    expect(relayRefusalOf(rcpt(554, '554 5.7.1 <"unable to relay"@dealer.example>: Client host rejected: Access denied'))).toBe("client");
  });
});

describe("HELO named only as the thing refused", () => {
  it.each([
    "504 5.5.2 <famos-7c9d>: Helo command rejected: need fully-qualified hostname",
    "550 5.7.1 HELO rejected",
    "550 5.7.1 Rejected HELO: famos-7c9d is not a hostname",
    "550 5.7.1 helo blocked by local policy",
    "550 HELO/EHLO rejected: invalid hostname",
    "550 Rejected: HELO famos-7c9d is an invalid hostname",
  ])("%s: FAMOS as a client", (response) => {
    expect(relayRefusalOf(rcpt(Number(response.slice(0, 3)), response))).toBe("client");
  });
  it("a refusal to relay said outright is 'relaying' even when it names HELO too", () => {
    expect(relayRefusalOf(rcpt(554, "554 5.7.1 Relaying denied, HELO rejected"))).toBe("relaying");
  });
  it("the word helo elsewhere in a relay's words is no HELO refusal", () => {
    expect(relayRefusalOf(rcpt(554, "554 5.7.1 Relay access denied; helo=famos-7c9d"))).toBe("relaying");
  });
});
