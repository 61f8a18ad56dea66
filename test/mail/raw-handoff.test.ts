import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type * as Nodemailer from "nodemailer";
import type * as MimeNodeModule from "nodemailer/lib/mime-node";
import { PLAIN_ENVELOPE, rawHandoff } from "../../src/mail/raw-handoff.ts";
import { composeMessage } from "../../src/mail/transport.ts";
import { codeMail } from "../../src/otp/messages.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { SMTPServer } from "smtp-server";
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from "../support/smtp.ts";

/**
 * src/mail/raw-handoff.ts hands a composed message to nodemailer's SMTP pool without sendMail. It
 * relies on what nodemailer 10's pool reads of a message; this pins that against sendMail itself,
 * over the real in-process SMTP server, so an upgrade that changes it fails here: the same bytes
 * arrive, to the same envelope, with the same Message-ID and DKIM signature; the pool gives the same
 * result and the same errors (code, reply, command, every field failureOf reads and the others).
 */

const load = createRequire(import.meta.url);
const nodemailer = load("nodemailer") as typeof Nodemailer;
const FROM = "FAMOS <noreply@famos.test>";
const AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0";

let smtp: TestSmtpServer;
const opened: Nodemailer.Transporter[] = [];
function pool(extra: Record<string, unknown> = {}, url = smtp.url): Nodemailer.Transporter {
  const transporter = nodemailer.createTransport({ url, pool: true, maxConnections: 2, maxMessages: 500, ...extra } as never);
  opened.push(transporter);
  return transporter;
}

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => smtp.stop());
beforeEach(() => {
  smtp.clear();
  smtp.refuse(false);
  smtp.rejectPermanently(false);
  smtp.refuseSender(false);
  smtp.dropAfterData(false);
});
afterEach(() => {
  for (const transporter of opened.splice(0)) transporter.close();
});

let counter = 0;
/** A code mail as the sender composes it, in the given language, with a new Message-ID. */
function composed(locale: (typeof LOCALES)[number], recipient = "dealer@dealer.test") {
  counter += 1;
  const mail = codeMail({ code: String(100000 + counter * 7919).slice(0, 6), loginId: `user.${counter}`, purpose: "signin", ttlMs: 15 * 60_000, expiresAt: Date.UTC(2026, 11, 6, 10), timezone: "Europe/Berlin", supportEmail: "retailit@famos.test", requestedBy: { ip: "203.0.113.9", userAgent: AGENT }, locale });
  const message = { recipient, subject: mail.subject, text_body: mail.text, html_body: mail.html, message_id: `<handoff${counter}.x@famos.test>` };
  return { raw: composeMessage(message, FROM, new Date(Date.UTC(2026, 11, 6, 9)))!, messageId: message.message_id };
}

/** What arrived, as the server saw it. */
const arrived = (mail: ReceivedMail) => ({ raw: mail.raw, envelopeFrom: mail.envelopeFrom, envelopeTo: mail.envelopeTo, messageId: mail.messageId });
/** A result without its timings. */
const result = (info: unknown) => {
  const { envelopeTime: _e, messageTime: _m, ...rest } = info as Record<string, unknown>;
  return rest;
};
/** An error's message and every own field. */
const fields = (error: unknown) => ({ message: (error as Error).message, ...(error as object) });
const settle = (promise: Promise<unknown>) => promise.then((info) => ({ info: result(info) }), (error: unknown) => ({ error: fields(error) }));

describe("rawHandoff: what nodemailer's pool sends, without sendMail", () => {
  it("the same bytes, envelope, Message-ID and result as sendMail({ raw, envelope, messageId }), in every language", async () => {
    const transporter = pool();
    const handoff = rawHandoff(transporter)!;
    expect(handoff).not.toBeNull();
    for (const locale of LOCALES) {
      const { raw, messageId } = composed(locale);
      const envelope = { from: "bounce+outbox0001@bounces.famos.test", to: "dealer@dealer.test" };
      const old = await transporter.sendMail({ raw, messageId, envelope });
      const now = await handoff(raw, messageId, envelope);
      expect(smtp.messages).toHaveLength(2);
      const [a, b] = smtp.messages.splice(0).map(arrived);
      expect(b, locale).toEqual(a);
      expect(b!.raw, locale).toBe(raw);
      expect(result(now), locale).toEqual(result(old));
    }
  });

  it("the same DKIM-Signature, byte for byte (nodemailer's signer over the same stream)", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const transporter = pool({ dkim: { domainName: "famos.test", keySelector: "famos2026", privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString() } });
    const { raw, messageId } = composed("de");
    const envelope = { from: "noreply@famos.test", to: "dealer@dealer.test" };
    await transporter.sendMail({ raw, messageId, envelope });
    await rawHandoff(transporter)!(raw, messageId, envelope);
    const [a, b] = smtp.messages.map(arrived);
    expect(b!.raw).toMatch(/^DKIM-Signature: .*d=famos\.test/);
    expect(b).toEqual(a);
  });

  it("the same errors: a 451 at MAIL FROM, a 553 sender refusal, a 550 and a 452 at RCPT TO, a connection dropped after DATA", async () => {
    const transporter = pool();
    const handoff = rawHandoff(transporter)!;
    const refusals: [string, () => void][] = [
      ["451 at MAIL FROM", () => smtp.refuse(true)],
      ["553 sender", () => smtp.refuseSender(true)],
      ["550 at RCPT TO", () => smtp.rejectPermanently(true)],
      ["452 at RCPT TO", () => smtp.rejectPermanently(true, 452, "4.2.2 Mailbox full")],
      ["dropped after DATA", () => smtp.dropAfterData(true)],
    ];
    for (const [what, refuse] of refusals) {
      smtp.refuse(false);
      smtp.refuseSender(false);
      smtp.rejectPermanently(false);
      smtp.dropAfterData(false);
      refuse();
      const { raw, messageId } = composed("en-GB");
      const envelope = { from: "noreply@famos.test", to: "dealer@dealer.test" };
      const old = await settle(transporter.sendMail({ raw, messageId, envelope }));
      const now = await settle(handoff(raw, messageId, envelope));
      expect(old, what).toHaveProperty("error");
      expect(now, what).toEqual(old);
    }
  });

  it("an address nodemailer's envelope parser would rewrite goes through sendMail; one PLAIN_ENVELOPE takes, nodemailer leaves as it is", async () => {
    const node = new (load("nodemailer/lib/mime-node") as typeof MimeNodeModule).default();
    const plain = ["dealer@dealer.test", "bounce+outbox0001@bounces.famos.test", "a.b-c_d!#$%&'*/=?^`{|}~@x-1.example", "x@xn-a.example"];
    const rewritten = ["Dealer@Dealer.Test", "a..b@x.example", "\"a b\"@x.example", "a@xn--jgeva-dua.ee", "a@-x.example", "a@x_y.example", "a@jõgeva.ee", "a@x.example."];
    for (const address of plain) {
      expect(PLAIN_ENVELOPE.test(address), address).toBe(true);
      expect(node.setEnvelope({ from: address, to: address }).getEnvelope(), address).toMatchObject({ from: address, to: [address] });
    }
    for (const address of rewritten) expect(PLAIN_ENVELOPE.test(address), address).toBe(false);

    const transporter = pool();
    const { raw, messageId } = composed("fr", "Dealer@Dealer.Test");
    await rawHandoff(transporter)!(raw, messageId, { from: "noreply@famos.test", to: "Dealer@Dealer.Test" });
    expect(smtp.messages[0]!.envelopeTo).toEqual(["Dealer@dealer.test"]);
  });

  it("a message requeued by the pool (its reused connection closed before a byte of it was read) is read again from the start and arrives whole", async () => {
    // A relay that drops a kept-open connection at its next MAIL FROM, once: pool-resource.js requeues a
    // message whose stream was not read yet (readableDidRead === false) onto a new connection.
    const received: string[] = [];
    let armed = false;
    const mailFroms = new Map<string, number>();
    const relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      hideSTARTTLS: true,
      disableReverseLookup: true,
      logger: false,
      onMailFrom(_address, session, callback) {
        const count = (mailFroms.get(session.id) ?? 0) + 1;
        mailFroms.set(session.id, count);
        if (armed && count > 1) {
          armed = false;
          const connections = (relay as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections;
          for (const connection of connections) if (connection.session === session) connection._socket.destroy();
          return;
        }
        callback();
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          received.push(Buffer.concat(chunks).toString("utf8"));
          callback();
        });
      },
    });
    relay.on("error", () => undefined);
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    try {
      const url = `smtp://127.0.0.1:${(relay.server.address() as { port: number }).port}?ignoreTLS=true`;
      const envelope = { from: "noreply@famos.test", to: "dealer@dealer.test" };
      for (const path of ["sendMail", "handoff"] as const) {
        const transporter = pool({ maxConnections: 1 }, url);
        const send = path === "sendMail" ? (raw: string, messageId: string, envelope: { from: string; to: string }) => transporter.sendMail({ raw, messageId, envelope }) : rawHandoff(transporter)!;
        const first = composed("it");
        await send(first.raw, first.messageId, envelope);
        armed = true;
        const second = composed("nl");
        await send(second.raw, second.messageId, envelope);
        expect(armed, path).toBe(false);
        expect(received.splice(0), path).toEqual([first.raw, second.raw]);
        transporter.close();
      }
    } finally {
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  it("is not taken for a transport that is not the pool (a URL's ?pool=false): the caller keeps sendMail", () => {
    expect(rawHandoff(pool({}, `${smtp.url}&pool=false`))).toBeNull();
    expect(rawHandoff(nodemailer.createTransport({ streamTransport: true }))).toBeNull();
  });
});
