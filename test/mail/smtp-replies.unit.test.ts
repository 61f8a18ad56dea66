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

  // Real relays' refusals at RCPT TO (Postfix, Exim, Exchange/Microsoft 365, Gmail/Google Workspace):
  // FAMOS refused itself (its host, its sender, its HELO name, relaying) waits for the operator's fix;
  // one recipient's refusal (no such user, disabled, full, that recipient's policy) stays that message's.
  it.each([
    ["Postfix, a block list", 554, "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7", false, "client"],
    ["Microsoft 365, a block list", 550, "550 5.7.1 Service unavailable, Client host [192.0.2.7] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.7 (AS3130)", false, "client"],
    ["Microsoft 365, a banned sending IP", 550, "550 5.7.606 Access denied, banned sending IP [192.0.2.7]. To request removal from this list please visit https://sender.office.com/", false, "client"],
    ["Postfix, FAMOS's host", 554, "554 5.7.1 <mail.famos.example[192.0.2.7]>: Client host rejected: Access denied", false, "client"],
    ["Postfix, FAMOS's sender not its login's", 553, "553 5.7.1 <famos@dealer.example>: Sender address rejected: not owned by user famos", false, "sender"],
    ["Postfix, FAMOS's sender domain", 550, "550 5.1.8 <famos@dealer.example>: Sender address rejected: Domain not found", false, "sender"],
    ["Exim, FAMOS's sender", 550, "550-Verification failed for <famos@dealer.example>\n550-Unrouteable address\n550 Sender verify failed", false, "sender"],
    ["Exim, FAMOS's HELO name", 550, "550 HELO/EHLO rejected: invalid hostname", false, "client"],
    ["Exim, FAMOS's HELO name (another ACL)", 550, "550 Rejected: HELO famos-7c9d is an invalid hostname", false, "client"],
    ["Exchange, relaying", 550, "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain", false, "relaying"],
    ["Google Workspace SMTP relay, relaying", 550, "550 5.7.1 Invalid credentials for relay [192.0.2.7]. The IP address you've registered in your G Suite SMTP Relay service doesn't match domain of the account this email is being sent from.", false, "relaying"],
    ["Exim, relaying", 550, "550 relay not permitted", false, "relaying"],
    ["Postfix, no such user", 550, "550 5.1.1 <jane@dealer.example>: Recipient address rejected: User unknown in local recipient table", true, "address"],
    ["Exim, no such user", 550, "550 Unrouteable address", true, "address"],
    ["Microsoft 365, no such user", 550, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", true, "address"],
    ["Gmail, no such user", 550, "550-5.1.1 The email account that you tried to reach does not exist. Please try\n550 5.1.1 double-checking the recipient's email address for typos or unnecessary spaces.", true, "address"],
    ["Gmail, a disabled account", 550, "550 5.2.1 The email account that you tried to reach is disabled.", true, "address"],
    ["Gmail, a full mailbox (retried)", 552, "552-5.2.2 The email account that you tried to reach is over quota.", false, null],
    ["Postfix, that recipient's policy", 554, "554 5.7.1 <jane@dealer.example>: Recipient address rejected: Access denied", true, null],
    ["Gmail, that recipient's policy", 550, "550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibited the mail that you sent.", true, null],
    ["Exim, that recipient's policy", 550, "550 Administrative prohibition", true, null],
  ] as const)("%s (%d)", (_who, code, response, permanent, fault) => {
    expect(failureOf(refused("RCPT TO", code, response))).toMatchObject({ permanent, fault });
  });
});
