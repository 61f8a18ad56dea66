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
    // Gmail's MX answering FAMOS straight (FAMOS_SMTP_URL a recipient's own mail server), as nodemailer joins its
    // lines (iredmail/iRedMail#264, guileen/node-sendmail#37): FAMOS's host, "client", waiting; not relaying.
    ["Gmail, FAMOS's host sending to it directly", 550, "550-5.7.1 [192.0.2.7] The IP you're using to send mail is not authorized to\n550-5.7.1 send email directly to our servers. Please use the SMTP relay at your\n550-5.7.1 service provider instead. Learn more at\n550 5.7.1  https://support.google.com/mail/?p=NotAuthorizedError f64si1223417pfg.362 - gsmtp", false, "client"],
    // Exchange's recipient restriction check (RESOLVER.RST.*: the group's or mailbox's own rule of who may send
    // to it): that recipient's refusal, failed for good and no pause of anyone else's mail, whatever its words
    // say of authentication (Exchange's SmtpResponse table; Microsoft's NDR page for 5.7.133).
    ["Exchange Online, a group for authenticated senders only", 550, "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group", true, null],
    ["Exchange, a group for authenticated senders only", 550, "550 5.7.1 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group", true, null],
    ["Exchange Online, a mailbox for authenticated senders only", 550, "550 5.7.134 RESOLVER.RST.SenderNotAuthenticatedForMailbox", true, null],
    ["Exchange, authentication required by the recipient", 550, "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required", true, null],
    ["Exchange, FAMOS not among the recipient's allowed senders", 550, "550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized", true, null],
    ["Exchange, FAMOS not among the group's allowed senders", 550, "550 5.7.1 RESOLVER.RST.NotAuthorizedToGroup; not authorized to send to the distribution list", true, null],
  ] as const)("%s (%d)", (_who, code, response, permanent, fault) => {
    expect(failureOf(refused("RCPT TO", code, response))).toMatchObject({ permanent, fault });
  });

  it.each([
    "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group",
    "550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized",
  ])("an Exchange recipient's own rule is never taken for the relay's, however often it repeats: %s", (response) => {
    expect(failureOf(refused("RCPT TO", 550, response))).toEqual({ permanent: true, addressRefused: null, relay: null, refusedByPolicy: false, fault: null });
  });

  // A bare address in a reply (no <...>) is the recipient's, typed by a user, or FAMOS's own: its words
  // ("helo", "relay", "sender") say nothing of what is refused. The words around it still count.
  it.each([
    ["Sendmail, no such user at relay@", 550, "550 relay@dealer.example... User unknown", true, "address"],
    ["Sendmail, no such user at helo@", 550, "550 helo@helo-motors.example... User unknown", true, "address"],
    ["no such user at sender@", 550, "550 No such user sender@dealer.example", true, "address"],
    ["a recipient's policy naming helo@", 550, "550 5.7.1 Message rejected for helo@dealer.example", true, null],
    ["a recipient's policy naming relay-desk@ (address glued to a colon)", 554, "554 5.7.1 relay-desk@dealer.example: Recipient address rejected: Access denied", true, null],
    ["relaying denied beside a bare address is still relaying", 554, "554 5.7.1 jane@elsewhere.example: Relay access denied", false, "relaying"],
    ["FAMOS's sender refused beside a bare address is still its sender", 553, "553 5.7.1 famos@dealer.example: Sender address rejected: not owned by user famos", false, "sender"],
    ["Gmail's refusal of a host without reverse DNS (its multi-line reply as nodemailer joins it) is FAMOS's host", 550,
      "550-5.7.25 [192.0.2.7] The IP address sending this message does not have a 550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not 550 5.7.25 point to the sending IP. As a policy, Gmail does not accept messages from IPs with missing PTR records. - gsmtp", false, "client"],
    ["a recipient's policy naming relays@ (a rule's word inside the local part)", 550, "550 5.7.1 Message rejected for relays@dealer.example", true, null],
    ["a recipient's policy naming an address with a rule's word as a later label", 550, "550 5.7.1 Message rejected for jane@desk.dealer.relay.example", true, null],
    ["an Exchange recipient rule's words that refuse relaying too are relaying", 550, "550 5.7.1 RESOLVER.RST.NotAuthorized; unable to relay", false, "relaying"],
    ["authentication asked of FAMOS at RCPT TO, no mailbox named, is the relay's", 550, "550 5.7.1 Authentication required", false, "relaying"],
    ["a block list beside an address in its URL is still FAMOS's host", 554, "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; mailto:postmaster@dealer.example", false, "client"],
  ] as const)("%s (%d)", (_what, code, response, permanent, fault) => {
    expect(failureOf(refused("RCPT TO", code, response))).toMatchObject({ permanent, fault });
  });
});
