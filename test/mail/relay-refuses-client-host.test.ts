import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSmtp } from "../../src/mail/smtp-check.ts";
import { MailDeliveryError, smtpTransport } from "../../src/mail/transport.ts";
import { outboxMessage } from "../support/outbox-message.ts";

/**
 * Postfix refuses FAMOS's host at RCPT TO (smtpd_client_restrictions, delayed there by
 * smtpd_delay_reject): "554 5.7.1 <host[1.2.3.4]>: Client host rejected: Access denied". That is the
 * relay refusing FAMOS as its client, as its refusal of FAMOS's HELO name at RCPT TO is (heloRefused's
 * family), not a refusal to relay: the advice sends the operator to the relay's settings and log, not
 * its relaying permission, and the stored kind is "client" (the OTP screen's "notRelayed" is for
 * relaying only). It waits as the HELO refusal does. Before, it was "relaying". Real smtp-server relays.
 */
async function refusingAtRcpt(code: number, words: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    // Plain SMTP: smtp-server's own certificate for STARTTLS has expired.
    hideSTARTTLS: true,
    onRcptTo(_address, _session, callback) {
      callback(Object.assign(new Error(words), { responseCode: code }));
    },
  });
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const FROM = "FAMOS <no-reply@famos.test>";

async function failure(url: string): Promise<MailDeliveryError> {
  const transport = smtpTransport(url, { timeScale: 0.1 });
  try {
    const error = await transport.send(outboxMessage(), FROM).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MailDeliveryError);
    return error as MailDeliveryError;
  } finally {
    transport.close();
  }
}

describe("a relay that refuses FAMOS's host at RCPT TO", () => {
  let clientHost: Awaited<ReturnType<typeof refusingAtRcpt>>;
  let helo: Awaited<ReturnType<typeof refusingAtRcpt>>;
  let relaying: Awaited<ReturnType<typeof refusingAtRcpt>>;
  beforeAll(async () => {
    clientHost = await refusingAtRcpt(554, "5.7.1 <host[1.2.3.4]>: Client host rejected: Access denied");
    helo = await refusingAtRcpt(504, "5.5.2 <famos-7c9d>: Helo command rejected: need fully-qualified hostname");
    relaying = await refusingAtRcpt(554, "5.7.1 <x@elsewhere.example>: Relay access denied");
  });
  afterAll(async () => {
    await Promise.all([clientHost, helo, relaying].map((r) => r?.close()));
  });

  const what = (e: MailDeliveryError) => ({ permanent: e.permanent, relay: e.relay, addressRefused: e.addressRefused, refusedByPolicy: e.refusedByPolicy });

  it("is FAMOS refused as a client: the relay's settings and log to check, stored as \"client\"", async () => {
    const error = await failure(clientHost.url);
    expect(error.fault).toBe("client");
    // `famos doctor --send-to`'s test message: the relay's words, then what to fix (relayRefusalAdvice).
    const check = await checkSmtp(clientHost.url, { send: { to: "operator@dealer.example", from: FROM, message: { subject: "s", text: "t", html: "<p>h</p>" } }, timeScale: 0.1 });
    expect(check).toEqual({
      ok: false,
      stage: "send",
      detail: "554 5.7.1 <host[1.2.3.4]>: Client host rejected: Access denied: the mail relay refuses FAMOS (check the relay's own settings and log)",
    });
  });

  it("waits as the HELO name refused at RCPT TO does (and as relaying denied does): never the message's for good, the pause's once it repeats", async () => {
    const [host, name, relay] = [await failure(clientHost.url), await failure(helo.url), await failure(relaying.url)];
    expect(what(host)).toEqual(what(name));
    expect(what(host)).toEqual({ permanent: false, relay: "refused", addressRefused: null, refusedByPolicy: true });
    // Relaying denied keeps its own words and kind.
    expect([relay.fault, what(relay)]).toEqual(["relaying", what(host)]);
  });
});

/**
 * More of the relay refusing FAMOS itself at RCPT TO, in real relays' words: Postfix's and Microsoft 365's
 * block-list refusal of FAMOS's host ("Client host [ip] blocked using …": FAMOS as a client, the advice
 * naming the list), Postfix's refusal of FAMOS's sender (smtpd_sender_restrictions, delayed to RCPT TO:
 * FAMOS_MAIL_FROM, never the recipient's mailbox though the words say "user"), Exim's refusal of its HELO
 * name (an ACL at RCPT TO). Each refuses every message alike: it waits, never the message's for good.
 * Before, the block list was "relaying" and the other two failed the message for good.
 */
describe("a relay that refuses FAMOS itself at RCPT TO, in its own words", () => {
  it.each([
    [554, "5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.7", "client",
      "the mail relay refuses FAMOS's host as on a block list, zen.spamhaus.org (check the relay's own settings and log, and that list's entry for FAMOS's address)"],
    [553, "5.7.1 <famos@dealer.example>: Sender address rejected: not owned by user famos", "sender",
      "the mail relay refuses FAMOS's sender (check that the relay lets FAMOS send from FAMOS_MAIL_FROM's address (and FAMOS_BOUNCE_DOMAIN's, if set))"],
    [550, "HELO/EHLO rejected: invalid hostname", "client", "the mail relay refuses FAMOS (check the relay's own settings and log)"],
    // Gmail's MX as FAMOS_SMTP_URL (one line, as smtp-server answers; the multi-line reply in smtp-replies.unit):
    // FAMOS's host, not relaying, and the advice names the setting to change. Before, "relaying".
    [550, "5.7.1 [192.0.2.7] The IP you're using to send mail is not authorized to send email directly to our servers. Please use the SMTP relay at your service provider instead. Learn more at https://support.google.com/mail/?p=NotAuthorizedError f64si1223417pfg.362 - gsmtp", "client",
      "the mail server in FAMOS_SMTP_URL takes no mail sent straight from FAMOS's host (check that FAMOS_SMTP_URL names your mail provider's relay, not a recipient's own mail server)"],
    // Gmail's refusal of a host without reverse DNS (one line; the multi-line reply in smtp-replies.unit): FAMOS's host.
    [550, "5.7.25 [192.0.2.7] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP. As a policy, Gmail does not accept messages from IPs with missing PTR records. - gsmtp", "client",
      "the receiving server finds no reverse DNS for FAMOS's address (check that FAMOS's sending address has a PTR record naming a host whose own address is it)"],
  ])("%d %s: waits, stored as %j, and doctor says what to fix", async (code, words, fault, advice) => {
    const relay = await refusingAtRcpt(code, words);
    try {
      const error = await failure(relay.url);
      expect({ fault: error.fault, permanent: error.permanent, relay: error.relay, addressRefused: error.addressRefused }).toEqual({ fault, permanent: false, relay: "refused", addressRefused: null });
      const check = await checkSmtp(relay.url, { send: { to: "operator@dealer.example", from: FROM, message: { subject: "s", text: "t", html: "<p>h</p>" } }, timeScale: 0.1 });
      expect(check).toEqual({ ok: false, stage: "send", detail: `${code} ${words}: ${advice}` });
    } finally {
      await relay.close();
    }
  });
});
