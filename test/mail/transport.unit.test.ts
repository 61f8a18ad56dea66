import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { simpleParser } from "mailparser";
// mailauth (Postal Systems, pinned 4.13.3): a maintained DKIM verifier, RFC 6376.
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { composeMessage, developmentTransport, MailDeliveryError, sendingOptions, smtpTransport, type MailTransport } from "../../src/mail/transport.ts";
import { outboxMessage } from "../support/outbox-message.ts";
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from "../support/smtp.ts";

/**
 * src/mail/transport.ts over the real in-process SMTP server of test/support/smtp.ts: which path a
 * message takes (composed here in one pass, or by nodemailer's composer for an internationalised
 * address), the envelope sender (VERP or the From's address), what an SMTP failure means for a retry,
 * AUTH from the URL, DKIM, closing the pool, and that no header can be added through what reaches one.
 * test/mail/compose.unit.test.ts compares the one-pass message with nodemailer's own, field by field.
 */

const FROM = "FAMOS <noreply@famos.test>";
const BOUNCES = "bounces.famos.test";
const SENT = new Date(Date.UTC(2026, 10, 28, 14, 0, 0));


/** The header names of a received message, lower case, in order. */
const headerNames = (mail: ReceivedMail) => [...mail.headers.keys()].sort();
const HEADERS = ["content-type", "date", "from", "message-id", "mime-version", "subject", "to"];

async function failure(promise: Promise<unknown>): Promise<MailDeliveryError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailDeliveryError);
  return error as MailDeliveryError;
}

let smtp: TestSmtpServer;
const transports: MailTransport[] = [];
const open = (...args: Parameters<typeof smtpTransport>) => {
  const transport = smtpTransport(...args);
  transports.push(transport);
  return transport;
};

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => smtp.stop());
beforeEach(() => {
  smtp.clear();
  smtp.refuse(false);
  smtp.rejectPermanently(false);
});
afterEach(() => {
  for (const transport of transports.splice(0)) transport.close();
});

describe("smtpTransport: what reaches the SMTP server", () => {
  it("sends a message with ASCII addresses as composed here in one pass: to its one recipient, from the From's address, with its Message-ID", async () => {
    const message = outboxMessage();
    await open(smtp.url).send(message, FROM);
    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    // The one-pass composer's boundary: nodemailer's composer draws "--_NmP-…" instead.
    expect(mail.raw).toMatch(/^Content-Type: multipart\/alternative; boundary="--_FAMOS_[0-9a-f]{24}"\r\n/);
    expect(mail.envelopeFrom).toBe("noreply@famos.test");
    expect(mail.envelopeTo).toEqual(["dealer@dealer.test"]);
    expect(mail).toMatchObject({ from: '"FAMOS" <noreply@famos.test>', to: "dealer@dealer.test", subject: message.subject, messageId: message.message_id, html: message.html_body });
    expect(mail.text.trim()).toBe(message.text_body);
    expect(headerNames(mail)).toEqual(HEADERS);
  });

  it("hands an internationalised address to nodemailer's composer (SMTPUTF8): the same fields arrive", async () => {
    const message = outboxMessage({ recipient: "jörg@dealer.test" });
    await open(smtp.url).send(message, "FAMOS Zürich <noreply@famos.test>");
    const mail = smtp.messages[0]!;
    expect(mail.raw).not.toContain("--_FAMOS_");
    expect(mail.envelopeFrom).toBe("noreply@famos.test");
    expect(mail.envelopeTo).toEqual(["jörg@dealer.test"]);
    expect(mail).toMatchObject({ from: '"FAMOS Zürich" <noreply@famos.test>', to: "jörg@dealer.test", subject: message.subject, messageId: message.message_id, html: message.html_body });
    expect(mail.text.trim()).toBe(message.text_body);
    expect(headerNames(mail)).toEqual(HEADERS);
  });

  it("VERP: with a bounce domain the envelope sender is bounce+<outbox id>@ that domain, on both paths; the From stays", async () => {
    const transport = open(smtp.url, { bounceDomain: BOUNCES });
    const ascii = outboxMessage();
    const international = outboxMessage({ recipient: "jörg@dealer.test" });
    await transport.send(ascii, FROM);
    await transport.send(international, FROM);
    expect(smtp.messages.map((m) => [m.envelopeFrom, m.envelopeTo, m.from])).toEqual([
      [`bounce+${ascii.id}@${BOUNCES}`, ["dealer@dealer.test"], '"FAMOS" <noreply@famos.test>'],
      [`bounce+${international.id}@${BOUNCES}`, ["jörg@dealer.test"], '"FAMOS" <noreply@famos.test>'],
    ]);
  });

  it("without a bounce domain the envelope sender is the From's address (src/mail/mailbox.ts), with or without a display name; a bare From is the address itself", async () => {
    const transport = open(smtp.url, { bounceDomain: null });
    for (const from of [
      "FAMOS <noreply@famos.test>",
      "FAMOS <noreply@famos.test>  ",
      '"Retail IT, Dealer Group" <noreply@famos.test>',
      "Concessionnaire Évry <noreply@famos.test>",
      "noreply@famos.test",
      "  noreply@famos.test ",
    ]) {
      smtp.clear();
      await transport.send(outboxMessage(), from);
      expect(smtp.messages[0]!.envelopeFrom, JSON.stringify(from)).toBe("noreply@famos.test");
      expect(smtp.messages[0]!.headers.get("from"), JSON.stringify(from)).toMatchObject({ value: [{ address: "noreply@famos.test" }] });
    }
  });

  it("refuses, for good and before any connection, a From that is not one mailbox (two <…>, a list, an address in the name): the envelope and nodemailer's composer would read different senders out of it", async () => {
    const transport = open(smtp.url, { bounceDomain: null });
    for (const from of ["Retail IT <desk> <noreply@famos.test>", "noreply@famos.test, x@evil.test", "x@evil.test <noreply@famos.test>", '"Evil <x@evil.test>" <noreply@famos.test>', "FAMOS <noreply@famos.test>\r\nBcc: x@evil.test"]) {
      const error = await failure(transport.send(outboxMessage(), from));
      expect(error.permanent, JSON.stringify(from)).toBe(true);
      expect(error.message).toBe("the sender is not one mailbox");
    }
    expect(smtp.messages).toEqual([]);
  });

  it("authenticates with the user and password in the URL", async () => {
    const guarded = await startSmtpServer({ users: { famos: "right horse battery" } });
    try {
      await open(`smtp://famos:right%20horse%20battery@127.0.0.1:${guarded.port}?ignoreTLS=true`).send(outboxMessage(), FROM);
      expect(guarded.messages.map((m) => m.authUser)).toEqual(["famos"]);
      // RFC 4954 §6: 535, the relay refuses FAMOS's login, not this message: the mail waits (the
      // sender's relay pause) until the operator fixes FAMOS_SMTP_URL or the relay.
      const wrong = await failure(open(`smtp://famos:wrong@127.0.0.1:${guarded.port}?ignoreTLS=true`).send(outboxMessage(), FROM));
      expect([wrong.permanent, wrong.relay]).toEqual([false, "refused"]);
      expect(wrong.message).toContain("535");
      expect(guarded.messages).toHaveLength(1);
    } finally {
      await guarded.stop();
    }
  });

  it("signs with DKIM when the sending options carry a key (sendingOptions reads the key file), and the signature verifies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "famos-transport-"));
    try {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const keyFile = join(dir, "dkim.pem");
      const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      writeFileSync(keyFile, pem, { mode: 0o600 });
      const loaded = loadConfig({ FAMOS_BOUNCE_DOMAIN: BOUNCES, FAMOS_DKIM_DOMAIN: "famos.test", FAMOS_DKIM_SELECTOR: "famos2026", FAMOS_DKIM_KEY_FILE: keyFile });
      if (!loaded.ok) throw new Error(JSON.stringify(loaded));
      const sending = sendingOptions(loaded.config);
      expect(sending).toEqual({ bounceDomain: BOUNCES, dkim: { domainName: "famos.test", keySelector: "famos2026", privateKey: pem } });

      const message = outboxMessage();
      await open(smtp.url, sending).send(message, FROM);
      const mail = smtp.messages[0]!;
      expect(mail.envelopeFrom).toBe(`bounce+${message.id}@${BOUNCES}`);
      expect(mail.raw).toMatch(/^DKIM-Signature: .*d=famos\.test/m);
      const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
      const resolver = async (name: string, type: string) => {
        if (name === "famos2026._domainkey.famos.test" && type === "TXT") return [[record]];
        throw Object.assign(new Error(`no ${type} record for ${name}`), { code: "ENOTFOUND" });
      };
      const verified = (await dkimVerify(Buffer.from(mail.raw), { resolver })) as { results: { status: { result: string } }[] };
      expect(verified.results.map((r) => r.status.result)).toEqual(["pass"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sendingOptions without FAMOS_BOUNCE_DOMAIN or FAMOS_DKIM_*: no bounce domain, no signature", async () => {
    const loaded = loadConfig({});
    if (!loaded.ok) throw new Error(JSON.stringify(loaded));
    const sending = sendingOptions(loaded.config);
    expect(sending).toEqual({ bounceDomain: null, dkim: null });
    await open(smtp.url, sending).send(outboxMessage(), FROM);
    expect(smtp.messages[0]!.raw).not.toMatch(/^DKIM-Signature:/im);
    expect(smtp.messages[0]!.envelopeFrom).toBe("noreply@famos.test");
  });
});

describe("smtpTransport: a failure says whether to retry (RFC 5321 §4.2.1)", () => {
  it("a 4yz reply is transient, with the server's words as the message", async () => {
    smtp.refuse(true);
    const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
    expect(error.permanent).toBe(false);
    expect(error.message).toBe("Mail command failed: 451 4.3.0 Mail service temporarily unavailable (test outage)");
    expect(smtp.messages).toEqual([]);
  });

  it("a 5yz reply is permanent, from 500 up; the message is the error's own text, not its String()", async () => {
    for (const code of [550, 554, 500]) {
      smtp.rejectPermanently(true, code);
      const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
      expect([code, error.permanent]).toEqual([code, true]);
      expect(error.message).toBe(`Can't send mail - all recipients were rejected: ${code} 5.1.1 Mailbox does not exist (test rejection)`);
    }
    smtp.rejectPermanently(true, 499);
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).permanent).toBe(false);
    expect(smtp.messages).toEqual([]);
  });

  it("a full mailbox (5.2.2 in a 5yz reply) is retried: RFC 3463 §3.3 makes it a persistent transient failure, and someone may empty it", async () => {
    for (const code of [552, 550]) {
      smtp.rejectPermanently(true, code, "5.2.2 Mailbox full");
      const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
      expect([code, error.permanent, error.addressRefused]).toEqual([code, false, null]);
    }
    expect(smtp.messages).toEqual([]);
  });

  it("a 552 at RCPT TO is retried unless its enhanced status names something lasting: RFC 5321 §4.5.3.1.10 has \"too many recipients\" there treated as temporary (FAMOS sends one a message)", async () => {
    const cases: [string, boolean][] = [
      ["Too many recipients", false],
      ["5.5.3 Too many recipients", false],
      ["5.2.2 Mailbox full", false],
      ["5.3.4 Message too big for system", true],
      ["5.7.1 Message refused", true],
    ];
    for (const [words, permanent] of cases) {
      smtp.rejectPermanently(true, 552, words);
      const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
      expect([words, error.permanent, error.addressRefused]).toEqual([words, permanent, null]);
      // Retried, so not a policy refusal for the relay pause to weigh: a bare "552 Too many recipients"
      // for two staff members in a row does not stop the rollout's mail.
      if (!permanent) expect([words, error.relay, error.refusedByPolicy]).toEqual([words, null, false]);
    }
    // Another code than 552 in the same words stays permanent.
    smtp.rejectPermanently(true, 550, "Too many recipients");
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).permanent).toBe(true);
    expect(smtp.messages).toEqual([]);
  });

  it("says the failure's kind, stored with the try (outbox.last_fault): relaying, FAMOS's sender, the address, unreachable, or none", async () => {
    const cases: [number, string, string | null][] = [
      [554, "5.7.1 <a@elsewhere.example>: Relay access denied", "relaying"],
      [550, "Relaying denied", "relaying"],
      [550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain", "relaying"],
      [550, "5.7.1 Delivery not authorized, message refused", null],
      [450, "4.7.1 Relay access denied, try later", null],
      [550, "5.1.1 Mailbox does not exist", "address"],
      [552, "5.2.2 Mailbox full", null],
    ];
    for (const [code, words, fault] of cases) {
      smtp.rejectPermanently(true, code, words);
      expect([code, words, (await failure(open(smtp.url).send(outboxMessage(), FROM))).fault]).toEqual([code, words, fault]);
    }
    smtp.rejectPermanently(false);
    smtp.refuseSender(true, 550, "5.7.0 Mail relay denied");
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).fault).toBe("sender");
    smtp.refuseSender(false);
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, "close");
    expect((await failure(open(`smtp://127.0.0.1:${port}`).send(outboxMessage(), FROM))).fault).toBe("unreachable");
    expect(smtp.messages).toEqual([]);
  });

  it("a recipient refused for its address (5.1.x, 5.2.1 at RCPT TO) is told apart, with the status; a refusal of anything else is not", async () => {
    smtp.rejectPermanently(true);
    const unknown = await failure(open(smtp.url).send(outboxMessage(), FROM));
    expect([unknown.permanent, unknown.addressRefused]).toEqual([true, { status: "5.1.1" }]);
    smtp.rejectPermanently(true, 550, "5.2.1 Mailbox disabled, not accepting messages");
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).addressRefused).toEqual({ status: "5.2.1" });
    // The relay will not take mail from FAMOS, or the mailbox is full (RFC 3463 §3.3: transient, retried):
    // nothing is said about the address.
    // 5.1.7 and 5.1.8 are the sender's address (RFC 3463 §3.2: "Bad sender's mailbox address syntax",
    // "Bad sender's system address"; Exchange Online's "5.1.8 Access denied, bad outbound sender"): FAMOS's
    // own, given to every recipient alike.
    for (const words of ["5.7.1 Relaying denied", "5.2.2 Mailbox full", "5.1.8 Access denied, bad outbound sender", "5.1.7 Invalid address", "5.3.2 System not accepting network messages", "5.4.4 Unable to route"]) {
      smtp.rejectPermanently(true, 550, words);
      const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
      expect([words, error.addressRefused]).toEqual([words, null]);
    }
    // No enhanced status (RFC 2034 is optional): the reply codes that name the mailbox (RFC 5321 §4.2.2)
    // refuse the address, with no status; 530 (authentication) and 554 (policy) are about the client.
    // 530 asks for the login FAMOS did not give (RFC 4954 §6): the relay's setting, the mail waits.
    for (const [code, refused] of [[550, true], [551, true], [553, true], [530, false], [554, false]] as const) {
      smtp.rejectPermanently(true, code, "no such user");
      const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
      expect([code, error.permanent, error.addressRefused]).toEqual([code, code !== 530, refused ? { status: null } : null]);
    }
    // A bare refusal whose words are about the relay's own rules (an old Sendmail or Exim with no enhanced
    // status) blames no address: at a relay that will not relay for FAMOS it would mark every staff
    // member's address undeliverable at once.
    // Only words about the mailbox blame it: a relay's refusal in words of its own (qmail's rcpthosts with its
    // status at the end, hMailServer's "not allowed", Exim's bare ACL "Administrative prohibition") is no
    // evidence against the address, and is given to every recipient alike.
    // Words about FAMOS as the relay's client (relaying, its login, its sender, its host) and none about
    // the mailbox: the relay refuses FAMOS, the mail waits. Other words, or a 5.7.x status, may be one
    // recipient's policy: permanent. Both are marked so the relay pause can tell whether they repeat for
    // the next recipient (a relay relays to its own domains for anyone: relay-pause.ts).
    const relayWide: [number, string, "relay" | "policy"][] = [
      [550, "Relaying denied", "relay"],
      [550, "relay access denied", "relay"],
      [550, "we do not relay for 192.0.2.7", "relay"],
      [550, "Authentication required", "relay"],
      [550, "sender verify failed", "relay"],
      [550, "5.7.1 Relaying denied", "relay"],
      [554, "5.7.1 <x@dealer.example>: Relay access denied", "relay"],
      [554, "5.7.1 <host.famos.test[192.0.2.7]>: Client host rejected: Access denied", "relay"],
      [553, "5.7.1 <no-reply@famos.test>: Sender address rejected: Domain not allowed", "relay"],
      [550, "5.1.8 Access denied, bad outbound sender", "relay"],
      // Real relays' refusals to relay that also say "recipient" or "invalid", which alone would make them
      // a mailbox's words: Exchange Server 2013+ and Exchange Online's receive connector, Exchange 2003/2007,
      // Gmail's SMTP relay service (smtp-relay.gmail.com), Sendmail, Exim.
      [550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain", "relay"],
      [550, "5.7.1 Unable to relay for unknown.user@elsewhere.example", "relay"],
      [550, "5.7.1 Invalid credentials for relay [192.0.2.7]. The IP address you've registered in your Workspace SMTP Relay service doesn't match domain of the account this email is being sent from.", "relay"],
      [550, "5.7.1 <x@elsewhere.example>... Relaying denied. Proper authentication required.", "relay"],
      [550, "relay not permitted", "relay"],
      [550, "5.7.64 TenantAttribution; Relay Access Denied", "relay"],
      [550, "5.7.1 Delivery not authorized, message refused", "policy"],
      [550, "5.7.1 Recipient address rejected: Access denied", "policy"],
      [553, "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "policy"],
      [550, "Delivery is not allowed to this address.", "policy"],
      [550, "Administrative prohibition", "policy"],
      [550, "Unauthenticated user not permitted", "policy"],
      [551, "not local host dealer.example, not a gateway", "policy"],
    ];
    for (const [code, words, whose] of relayWide) {
      smtp.rejectPermanently(true, code, words);
      const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
      expect([words, error.permanent, error.addressRefused, error.relay, error.refusedByPolicy]).toEqual(
        whose === "relay" ? [words, false, null, "refused", true] : [words, true, null, null, true],
      );
    }
    // Not a policy: a receiving system's state (5.3.x) or a mailbox's refusal is no relay's matter.
    for (const words of ["5.3.2 System not accepting network messages", "5.1.1 Mailbox does not exist"]) {
      smtp.rejectPermanently(true, 550, words);
      expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).refusedByPolicy, words).toBe(false);
    }
    // Bare, in the mailbox's words (Exim, Courier, qmail's own, RFC 5321's reply texts): the address's.
    for (const words of ["Unrouteable address", "User unknown", "sorry, no mailbox here by that name. (#5.1.1)", "Requested action not taken: mailbox unavailable", "Recipient does not exist"]) {
      smtp.rejectPermanently(true, 550, words);
      const error = await failure(open(smtp.url).send(outboxMessage(), FROM));
      // The address's refusal, so no policy refusal either: two staff members with old addresses in a row
      // do not pause the relay.
      expect([words, error.addressRefused, error.refusedByPolicy]).toEqual([words, { status: null }, false]);
    }
    smtp.rejectPermanently(true, 450, "4.1.1 Try again later");
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).addressRefused).toBeNull();
    // Exchange Online's unknown recipient has a two-digit detail (RFC 3463 allows up to three): the
    // status is read whole, "5.1.10", not taken for a reply without one.
    smtp.rejectPermanently(true, 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup");
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).addressRefused).toEqual({ status: "5.1.10" });
    // Postfix under soft_bounce: "454 4.7.1 Relay access denied" is a 4yz, retried as any other; only a
    // permanent refusal of FAMOS pauses the relay or counts as a policy.
    smtp.rejectPermanently(true, 454, "4.7.1 <dealer@dealer.test>: Relay access denied");
    const soft = await failure(open(smtp.url).send(outboxMessage(), FROM));
    expect([soft.permanent, soft.addressRefused, soft.relay, soft.refusedByPolicy]).toEqual([false, null, null, false]);
  });

  it("a refusal at MAIL FROM or at the end of DATA is not the recipient's address, nor a refusal at RCPT TO for the relay pause to weigh", async () => {
    // A relay that answers each command as scripted: `mail` to MAIL FROM, `data` to the end of the message.
    const scripted = async (replies: { mail?: string; data?: string }) => {
      const relay = createServer((socket) => {
        let inData = false;
        let text = "";
        socket.write("220 relay.test ESMTP\r\n");
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString("latin1");
          for (let end = text.indexOf("\r\n"); end >= 0; end = text.indexOf("\r\n")) {
            const line = text.slice(0, end);
            text = text.slice(end + 2);
            if (inData) {
              if (line === ".") {
                inData = false;
                socket.write(`${replies.data ?? "250 queued"}\r\n`);
              }
            } else if (/^EHLO/i.test(line)) socket.write("250 relay.test\r\n");
            else if (/^MAIL/i.test(line)) socket.write(`${replies.mail ?? "250 ok"}\r\n`);
            else if (/^RCPT/i.test(line)) socket.write("250 ok\r\n");
            else if (/^DATA/i.test(line)) {
              inData = true;
              socket.write("354 go on\r\n");
            } else if (/^QUIT/i.test(line)) socket.end("221 bye\r\n");
            else socket.write("250 ok\r\n");
          }
        });
      }).listen(0, "127.0.0.1");
      await once(relay, "listening");
      try {
        return await failure(open(`smtp://127.0.0.1:${(relay.address() as AddressInfo).port}`).send(outboxMessage(), FROM));
      } finally {
        relay.close();
      }
    };
    // Postfix's reject_unlisted_sender: FAMOS's own sender is unknown there; the 5.1.0 blames no recipient,
    // and the relay refuses FAMOS itself (it would refuse every message alike): the relay pauses, the
    // message waits for the operator's fix (relay-refuses-sender.test).
    const sender = await scripted({ mail: "550 5.1.0 <noreply@famos.test>: Sender address rejected: User unknown in virtual mailbox table" });
    expect([sender.permanent, sender.addressRefused, sender.relay]).toEqual([false, null, "refused"]);
    // A content filter's refusal after the message (amavis, a spam scanner): that message's, permanent;
    // the same refusal of the next message is no relay refusing FAMOS.
    const spam = await scripted({ data: "554 5.7.1 Message refused: spam content" });
    expect([spam.permanent, spam.addressRefused, spam.relay, spam.refusedByPolicy]).toEqual([true, null, null, false]);
    // An old relay's bare 552 after the message is "exceeded storage allocation" (RFC 5321 §4.2.2): the
    // message is too big, and no later try fits it; only a 552 at RCPT TO is "too many recipients".
    const big = await scripted({ data: "552 Message size exceeds maximum permitted" });
    expect([big.permanent, big.addressRefused, big.relay]).toEqual([true, null, null]);
  });

  it("the international path fails the same way: 550 permanent, 451 transient", async () => {
    smtp.rejectPermanently(true);
    expect((await failure(open(smtp.url).send(outboxMessage({ recipient: "jörg@dealer.test" }), FROM))).permanent).toBe(true);
    smtp.rejectPermanently(false);
    smtp.refuse(true);
    expect((await failure(open(smtp.url).send(outboxMessage({ recipient: "jörg@dealer.test" }), FROM))).permanent).toBe(false);
  });

  it("no reply at all (nothing listening) is transient", async () => {
    const gone = await startSmtpServer();
    const url = gone.url;
    await gone.stop();
    const error = await failure(open(url).send(outboxMessage(), FROM));
    expect(error.permanent).toBe(false);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.relay).toBe("unreachable");
  });

  it("a relay that cannot be reached is told apart from a reply to this message: no connection, or a 4yz greeting, is the relay's; replies to the message's own commands are not", async () => {
    const greeting = async (words: string) => {
      const relay = createServer((socket) => socket.end(`${words}\r\n`)).listen(0, "127.0.0.1");
      await once(relay, "listening");
      try {
        return await failure(open(`smtp://127.0.0.1:${(relay.address() as AddressInfo).port}`).send(outboxMessage(), FROM));
      } finally {
        relay.close();
      }
    };
    const busy = await greeting("421 4.3.2 Service not available, closing transmission channel");
    expect([busy.permanent, busy.relay]).toEqual([false, "unreachable"]);
    // "554 No SMTP service here" (RFC 5321 §3.1): the relay refuses FAMOS, not this message; the mail
    // waits (the sender's relay pause) until the operator fixes the relay.
    const never = await greeting("554 5.3.2 No SMTP service here");
    expect([never.permanent, never.relay]).toEqual([false, "refused"]);
    // A relay that greets and takes the envelope, then drops the connection in the middle of DATA:
    // nodemailer says "CONN" for this too, but the next message may well go.
    const dropping = createServer((socket) => {
      socket.write("220 relay.test ESMTP\r\n");
      socket.on("data", (chunk: Buffer) => {
        const text = chunk.toString("latin1");
        if (/^EHLO/i.test(text)) socket.write("250 relay.test\r\n");
        else if (/^(MAIL|RCPT)/i.test(text)) socket.write("250 ok\r\n");
        else if (/^DATA/i.test(text)) socket.write("354 go on\r\n");
        else socket.destroy();
      });
    }).listen(0, "127.0.0.1");
    await once(dropping, "listening");
    try {
      const dropped = await failure(open(`smtp://127.0.0.1:${(dropping.address() as AddressInfo).port}`).send(outboxMessage(), FROM));
      expect([dropped.permanent, dropped.relay, dropped.message]).toEqual([false, null, expect.stringMatching(/closed unexpectedly/i)]);
    } finally {
      dropping.close();
    }
    smtp.refuse(true);
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).relay).toBeNull();
    smtp.refuse(false);
    smtp.rejectPermanently(true);
    expect((await failure(open(smtp.url).send(outboxMessage(), FROM))).relay).toBeNull();
  });

  it("close ends the pool: a send after it fails, transient, and nothing reaches the server", async () => {
    const transport = open(smtp.url);
    await transport.send(outboxMessage(), FROM);
    transport.close();
    const error = await failure(transport.send(outboxMessage(), FROM));
    expect(error).toMatchObject({ message: "Connection pool was closed", permanent: false });
    expect(smtp.messages).toHaveLength(1);
  });
});

describe("smtpTransport: one message, one recipient (ASVS 5.2.3)", () => {
  // Every recipient has passed checkEmailEntry and enqueueMail refuses CR and LF; the transport does not
  // rely on that: whatever writes to the outbox, a recipient that is not one address goes nowhere.
  const notOne = {
    "CR LF and a Bcc header": "a@dealer.test\r\nBcc: x@evil.test",
    "a bare LF": "a@dealer.test\nx@evil.test",
    "U+2028": "a@dealer.test\u2028Bcc: x@evil.test",
    "U+2029": "a@dealer.test\u2029x@evil.test",
    "U+0085": "a@dealer.test\u0085x@evil.test",
    NUL: "a@dealer.test\u0000x@evil.test",
    "a comma": "a@dealer.test, x@evil.test",
    "a semicolon": "a@dealer.test;x@evil.test",
    "a group": "team: x@evil.test;",
    "a display name": "Dealer <x@evil.test>",
    "a space": "a@dealer.test x@evil.test",
    "two @": "a@dealer.test@evil.test",
    "no @": "dealer.test",
    "an empty domain": "a@",
    "nothing": "",
  };
  for (const [what, recipient] of Object.entries(notOne)) {
    it(`refuses, for good and before any connection, a recipient with ${what}`, async () => {
      const error = await failure(open(smtp.url).send(outboxMessage({ recipient }), FROM));
      expect(error.permanent).toBe(true);
      expect(error.message).toBe("the recipient is not one email address");
      expect(smtp.messages).toEqual([]);
    });
  }

  it("still sends to one plain or internationalised address", async () => {
    const transport = open(smtp.url);
    await transport.send(outboxMessage({ recipient: "o'neil+famos@dealer.test" }), FROM);
    await transport.send(outboxMessage({ recipient: "jürgen@autohaus-müller.test" }), FROM);
    expect(smtp.messages.map((m) => m.envelopeTo)).toEqual([["o'neil+famos@dealer.test"], ["jürgen@autohaus-müller.test"]]);
  });
});

describe("smtpTransport: no header can be added through the subject or the Message-ID (ASVS 5.2.x)", () => {
  const BREAKS: [string, string][] = [
    ["CRLF", "\r\n"],
    ["CR", "\r"],
    ["LF", "\n"],
    ["CRLF CRLF (an empty line: the body)", "\r\n\r\n"],
    ["NUL", "\u0000"],
    ["U+2028 LINE SEPARATOR", "\u2028"],
    ["U+2029 PARAGRAPH SEPARATOR", "\u2029"],
    ["U+0085 NEXT LINE", "\u0085"],
  ];
  for (const [what, gap] of BREAKS) {
    it(`a subject with ${what} stays one Subject header, on both paths`, async () => {
      const transport = open(smtp.url);
      for (const recipient of ["dealer@dealer.test", "jörg@dealer.test"]) {
        smtp.clear();
        const message = outboxMessage({ recipient, subject: `Your code${gap}Bcc: victim@evil.test${gap}X-Injected: yes` });
        await transport.send(message, FROM);
        const mail = smtp.messages[0]!;
        expect(mail.envelopeTo, recipient).toEqual([recipient]);
        expect(headerNames(mail), recipient).toEqual(HEADERS);
        expect(mail.subject, recipient).toMatch(/^Your code.*Bcc: victim@evil\.test.*X-Injected: yes$/s);
        // Read back, the subject keeps no CR or LF (a separator such as U+2028 may stay: it was sent encoded).
        expect(mail.subject, recipient).not.toMatch(/[\r\n]/);
        const header = mail.raw.slice(0, mail.raw.indexOf("\r\n\r\n"));
        expect(header, recipient).not.toMatch(/^(Bcc|X-Injected):/im);
        // As sent, every header line ends at a CRLF and holds no other break, NUL or separator.
        for (const line of header.split("\r\n")) expect(line, recipient).not.toMatch(/[\r\n\u0000\u2028\u2029\u0085]/);
        expect(mail.text.trim(), recipient).toBe(message.text_body);
      }
    });
  }

  it("a Message-ID with a line break adds no header (nodemailer's composer takes it and keeps it one line)", async () => {
    const message = outboxMessage({ message_id: "<x1@famos.test>\r\nBcc: victim@evil.test" });
    await open(smtp.url).send(message, FROM);
    const mail = smtp.messages[0]!;
    expect(mail.envelopeTo).toEqual(["dealer@dealer.test"]);
    expect(headerNames(mail)).toEqual(HEADERS);
    expect(mail.raw).not.toMatch(/^Bcc:/im);
  });
});

describe("composeMessage: the message as written", () => {
  const message = {
    recipient: "dealer@dealer.test",
    subject: "Your FAMOS one time passcode",
    text_body: "Line one\nLine two\r\nLine three",
    html_body: "<p>One</p>\n<p>Two</p>",
    message_id: "<aBcD1234efgh@famos.test>",
  };

  it("writes the header block exactly: the boundary, From, To, Subject, Message-ID, an RFC 5322 Date in +0000, MIME-Version", () => {
    const raw = composeMessage(message, FROM, SENT)!;
    const boundary = /boundary="([^"]+)"/.exec(raw)![1]!;
    expect(boundary).toMatch(/^--_FAMOS_[0-9a-f]{24}$/);
    expect(raw.slice(0, raw.indexOf("\r\n\r\n"))).toBe(
      [
        `Content-Type: multipart/alternative; boundary="${boundary}"`,
        "From: FAMOS <noreply@famos.test>",
        "To: dealer@dealer.test",
        "Subject: Your FAMOS one time passcode",
        "Message-ID: <aBcD1234efgh@famos.test>",
        "Date: Sat, 28 Nov 2026 14:00:00 +0000",
        "MIME-Version: 1.0",
      ].join("\r\n"),
    );
  });

  it("writes the text part, then the HTML part, each quoted-printable UTF-8, and ends with the closing boundary and CRLF, nothing after", () => {
    const raw = composeMessage(message, FROM, SENT)!;
    const boundary = /boundary="([^"]+)"/.exec(raw)![1]!;
    const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    expect(body).toBe(
      [
        `--${boundary}`,
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Line one\r\nLine two\r\nLine three",
        `--${boundary}`,
        "Content-Type: text/html; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "<p>One</p>\r\n<p>Two</p>",
        `--${boundary}--`,
        "",
      ].join("\r\n"),
    );
  });

  it("writes every line break as CRLF (RFC 5322 §2.3), whether a body had LF or CRLF: no bare LF anywhere", () => {
    const raw = composeMessage({ ...message, text_body: "a\nb\n\nc\r\nd\n", html_body: "<p>\n</p>\n" }, FROM, SENT)!;
    expect(raw).not.toMatch(/[^\r]\n/);
    expect(raw).toContain("\r\n\r\na\r\nb\r\n\r\nc\r\nd\r\n\r\n--");
  });

  it("writes a plain subject as it is and any other through the header encoder, one header either way", async () => {
    const plain = composeMessage({ ...message, subject: "Code: 12 = ok?" }, FROM, SENT)!;
    expect(plain).toContain("\r\nSubject: Code: 12 = ok?\r\n");
    const encoded = composeMessage({ ...message, subject: "Ihr Code für FAMOS\r\nBcc: victim@evil.test" }, FROM, SENT)!;
    expect(encoded).toMatch(/\r\nSubject: =\?UTF-8\?Q\?/);
    const parsed = await simpleParser(encoded);
    expect(parsed.subject).toBe("Ihr Code für FAMOS Bcc: victim@evil.test");
    expect(parsed.headers.has("bcc")).toBe(false);
  });

  it("draws a boundary of its own for each message", () => {
    const first = /boundary="([^"]+)"/.exec(composeMessage(message, FROM, SENT)!)![1];
    const second = /boundary="([^"]+)"/.exec(composeMessage(message, FROM, SENT)!)![1];
    expect(first).not.toBe(second);
  });

  it("leaves to nodemailer's composer (null) a From, To or Message-ID that is not printable ASCII on one line", () => {
    expect(composeMessage(message, FROM, SENT)).not.toBeNull();
    for (const bad of ["\r\n", "\n", "\u0000", "\u007f", "ü", "\u2028", "\t"]) {
      expect(composeMessage({ ...message, recipient: `dealer${bad}@dealer.test` }, FROM, SENT), JSON.stringify(bad)).toBeNull();
      expect(composeMessage(message, `FAMOS${bad} <noreply@famos.test>`, SENT), JSON.stringify(bad)).toBeNull();
      expect(composeMessage({ ...message, message_id: `<a${bad}b@famos.test>` }, FROM, SENT), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe("developmentTransport: nothing leaves the machine", () => {
  it("writes one line naming the recipient, the subject and where to read it, and sends nothing", async () => {
    const lines: string[] = [];
    const transport = developmentTransport("http://localhost:3000/dev/mailbox", (line) => lines.push(line));
    expect(transport.kind).toBe("development");
    await transport.send(outboxMessage({ recipient: "dev@dealer.test", subject: "Your code" }), FROM);
    expect(lines).toEqual(['[dev mail] to dev@dealer.test: "Your code" (read it at http://localhost:3000/dev/mailbox)\n']);
    expect(transport.close()).toBeUndefined();
    expect(smtp.messages).toEqual([]);
  });

  it("writes that line to standard error when no writer is given", async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await developmentTransport("http://localhost:3000/dev/mailbox").send(outboxMessage({ recipient: "dev@dealer.test", subject: "S" }), FROM);
    } finally {
      spy.mockRestore();
    }
    expect(written).toEqual(['[dev mail] to dev@dealer.test: "S" (read it at http://localhost:3000/dev/mailbox)\n']);
  });
});
