import { describe, expect, it } from "vitest";
import { failureOf, relayRefusalOf } from "../../src/mail/smtp-replies.ts";

/** nodemailer's error for a refusal at a command, with the relay's reply. */
const refused = (command: string, responseCode: number, response: string, code = command === "RCPT TO" ? "EENVELOPE" : "EPROTOCOL") => ({ code, command, responseCode, response });

/**
 * What a failed send says (src/mail/smtp-replies.ts), read from nodemailer's error alone: whether the
 * message is retried, whether the address is to blame, whether the relay refuses FAMOS itself, and the
 * kind stored with the try. The same tables, over a real SMTP server, in test/mail/transport.unit.test.ts,
 * bare-refusal, relay-denies-relaying and relay-refuses-*.
 */
describe("the SMTP reply tables", () => {
  it.each([
    ["a 5.1.1 at RCPT TO blames the address, for good", refused("RCPT TO", 550, "550 5.1.1 <a@x.example>: No such user"),
      { permanent: true, addressRefused: { status: "5.1.1" }, relay: null, refusedByPolicy: false, fault: "address" }],
    ["a bare 550 in the mailbox's words blames it too", refused("RCPT TO", 550, "550 no such user here"),
      { permanent: true, addressRefused: { status: null }, relay: null, refusedByPolicy: false, fault: "address" }],
    ["relaying denied at RCPT TO is the relay's refusal of FAMOS, waiting", refused("RCPT TO", 554, "554 5.7.1 <a@x.example>: Relay access denied"),
      { permanent: false, addressRefused: null, relay: "refused", refusedByPolicy: true, fault: "relaying" }],
    ["a 5.7.1 policy at RCPT TO fails that message", refused("RCPT TO", 550, "550 5.7.1 Delivery not authorized, message refused"),
      { permanent: true, addressRefused: null, relay: null, refusedByPolicy: true, fault: null }],
    ["a full mailbox (5.2.2) is retried despite its 5yz", refused("RCPT TO", 552, "552 5.2.2 Mailbox full"),
      { permanent: false, addressRefused: null, relay: null, refusedByPolicy: false, fault: null }],
    ["a refused login is the relay's", { code: "EAUTH", command: "AUTH PLAIN", responseCode: 535, response: "535 5.7.8 Authentication credentials invalid" },
      { permanent: false, addressRefused: null, relay: "refused", refusedByPolicy: false, fault: "login" }],
    ["FAMOS's sender refused at MAIL FROM is the relay's", refused("MAIL FROM", 553, "553 5.7.1 <noreply@famos.test>: Sender address rejected: not owned by user"),
      { permanent: false, addressRefused: null, relay: "refused", refusedByPolicy: false, fault: "sender" }],
    ["a message too big at MAIL FROM is the message's", refused("MAIL FROM", 552, "552 5.3.4 Message size exceeds fixed limit"),
      { permanent: true, addressRefused: null, relay: null, refusedByPolicy: false, fault: null }],
    ["a 5yz greeting refuses FAMOS as a client", refused("CONN", 554, "554 No SMTP service here"),
      { permanent: false, addressRefused: null, relay: "refused", refusedByPolicy: false, fault: "client" }],
    ["a refused connection: no relay there", { code: "ESOCKET", command: "CONN", originalCode: "ECONNREFUSED" },
      { permanent: false, addressRefused: null, relay: "unreachable", refusedByPolicy: false, fault: "unreachable" }],
    ["EHLO refused while TLS is required (in clear: a path may answer it) is no TLS, not the message's", { code: "ECONNECTION", command: "EHLO", responseCode: 502, response: "502 5.5.2 Error: command not recognized" },
      { permanent: false, addressRefused: null, relay: "tls", refusedByPolicy: false, fault: "unreachable" }],
    // Without requireTLS nodemailer falls back from a refused EHLO to HELO: a relay that answers HELO with
    // a refusal was reached, and refuses FAMOS as a client (its HELO name, its host), not "cannot be reached".
    ["HELO refused after EHLO: the relay refuses FAMOS as a client, not the message's", { code: "EPROTOCOL", command: "HELO", responseCode: 500, response: "500 5.5.2 Error: command not recognized" },
      { permanent: false, addressRefused: null, relay: "refused", refusedByPolicy: false, fault: "client" }],
    ["HELO refused for now (4yz): the relay refuses FAMOS as a client too", { code: "EPROTOCOL", command: "HELO", responseCode: 450, response: "450 4.7.1 Client host rejected: cannot find your hostname" },
      { permanent: false, addressRefused: null, relay: "refused", refusedByPolicy: false, fault: "client" }],
    // Postfix refuses a HELO name at RCPT TO (smtpd_delay_reject, its default): every message alike, so
    // FAMOS as a client, waiting, never each message failed for good as a 5.5.2 of its own.
    ["HELO refused at RCPT TO (Postfix's delayed reject) is the relay refusing FAMOS as a client", refused("RCPT TO", 504, "504 5.5.2 <famos-7c9d>: Helo command rejected: need fully-qualified hostname"),
      { permanent: false, addressRefused: null, relay: "refused", refusedByPolicy: true, fault: "client" }],
    ["421 service not available: no relay there", refused("CONN", 421, "421 4.3.2 Service not available"),
      { permanent: false, addressRefused: null, relay: "unreachable", refusedByPolicy: false, fault: "unreachable" }],
    ["a 4yz after DATA is retried, of no kind", refused("DATA", 451, "451 4.3.0 Temporary local problem"),
      { permanent: false, addressRefused: null, relay: null, refusedByPolicy: false, fault: null }],
  ])("%s", (_what, error, expected) => {
    expect(failureOf(error)).toEqual(expected);
  });

  it("tells what of FAMOS the relay refuses, for the words of the relay pause", () => {
    expect(relayRefusalOf({ code: "EPROTOCOL", command: "HELO", responseCode: 554, response: "554 5.7.1 HELO rejected" })).toBe("client");
    expect(relayRefusalOf(refused("RCPT TO", 530, "530 5.7.0 Authentication required"))).toBe("login");
    expect(relayRefusalOf(refused("RCPT TO", 550, "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"))).toBe("relaying");
    expect(relayRefusalOf(refused("RCPT TO", 550, "550 5.1.1 No such user"))).toBeNull();
  });
});
