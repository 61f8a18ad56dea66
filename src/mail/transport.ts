import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type * as Nodemailer from "nodemailer";
import type * as MimeFuncs from "nodemailer/lib/mime-funcs";
import type * as MimeNodeModule from "nodemailer/lib/mime-node";
import { returnPathFor } from "../bounce/verp.ts";
import type { Config } from "../config/config.ts";
import { Kept } from "../platform/kept.ts";
import { cryptoRandom } from "../platform/random.ts";
import { isOneAddress, parseMailbox } from "./mailbox.ts";
import { quotedPrintable } from "./quoted-printable.ts";
import { rawHandoff, type RawHandoff } from "./raw-handoff.ts";
import { failureOf, type MailFault, type RelayFault } from "./smtp-replies.ts";
import type { OutboxMessage } from "./outbox.ts";

/** Hands one message to the next hop. Throws on failure; `permanent` errors are not retried. */
export interface MailTransport {
  send(message: OutboxMessage, from: string): Promise<void>;
  close(): void;
  /** "development": nothing leaves the machine; the development mailbox reads the outbox instead. */
  kind?: "smtp" | "development";
  /**
   * How a message composed here reaches the relay: "raw", handed to nodemailer's SMTP pool as it is
   * (raw-handoff.ts), or "sendMail", nodemailer's per-message work (a transport that is not its
   * CommonJS SMTPPool). Asked once when the sender starts, which warns on "sendMail".
   */
  handoffPath?(): "raw" | "sendMail";
}

export class MailDeliveryError extends Error {
  /**
   * @param addressRefused the SMTP server refused the recipient for its address (smtp-replies.ts addressRefusal):
   *   the same message or another code to it would be refused again.
   * @param relay the relay's fault, not the message's (RelayFault), or null.
   */
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly addressRefused: { status: string | null } | null = null,
    readonly relay: RelayFault | null = null,
    /**
     * A refusal at RCPT TO that may be this recipient's alone or the relay's refusal of FAMOS (smtp-replies.ts rcptRefusal):
     * a 5.7.x or bare refusal in other words (its domain's policy), or relaying denied (a relay relays to
     * its own domains for anyone, and refuses only the others). The relay pause decides by whether it
     * repeats for a different recipient (relay-pause.ts); `permanent` says whether the message fails meanwhile.
     */
    readonly refusedByPolicy = false,
    /** The failure's kind, stored with the try (smtp-replies.ts mailFaultOf), or null. */
    readonly fault: MailFault | null = null,
  ) {
    super(message);
  }
}

/** What every outgoing message gets besides its content: a VERP return path and a DKIM signature. */
export interface SendingOptions {
  /** FAMOS_BOUNCE_DOMAIN: the envelope sender becomes bounce+<outbox id>@ this domain. */
  bounceDomain?: string | null;
  /** nodemailer's dkim option (RFC 6376), from FAMOS_DKIM_*. */
  dkim?: { domainName: string; keySelector: string; privateKey: string } | null;
  /**
   * Every wait for the relay (SENDER_TIMEOUTS) times this; 1 unless a test shrinks real time: a relay
   * that answers after 25 s × scale is then waited for as long, in proportion, as in production.
   */
  timeScale?: number;
}

/** The sending options the configuration asks for; reads the DKIM key file (checked at start). */
export function sendingOptions(config: Readonly<Config>): SendingOptions {
  return {
    bounceDomain: config.bounce.domain,
    dkim: config.dkim
      ? { domainName: config.dkim.domain, keySelector: config.dkim.selector, privateKey: readFileSync(config.dkim.keyFile, "utf8") }
      : null,
  };
}

/**
 * How long the sender waits for the relay (see smtpTransport); `famos doctor --send-to` waits as long,
 * so a relay slow to answer the end of DATA is not reported failed while the server would deliver.
 */
export const SENDER_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 45_000 } as const;

export interface SmtpTimeouts {
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
}

/** nodemailer's waits times `scale` (SendingOptions.timeScale; 1 leaves them as they are). */
export function scaledTimeouts(timeouts: Readonly<SmtpTimeouts>, scale = 1): SmtpTimeouts {
  return {
    connectionTimeout: Math.round(timeouts.connectionTimeout * scale),
    greetingTimeout: Math.round(timeouts.greetingTimeout * scale),
    socketTimeout: Math.round(timeouts.socketTimeout * scale),
  };
}

/** SMTP through nodemailer; the URL may carry nodemailer's query options (?ignoreTLS=true …). */
export function smtpTransport(url: string, sending: SendingOptions = {}): MailTransport {
  // A pool keeps connections open, so a burst of sign-ins does not pay a TCP+TLS handshake each; as
  // many connections as the sender's batch, so no message of a batch waits for another's.
  // Timeouts inside the outbox lease (60 s): a send that hangs gives up and is retried before
  // another instance could take the message as abandoned and send it a second time. Yet a relay
  // that scans content may take tens of seconds to answer the end of DATA (RFC 5321 §4.5.3.2.6 has
  // a client wait 10 minutes): a client that gives up at 20 s while the relay goes on to deliver
  // mails the same code at every retry, then records it failed.
  // Made at the first message: a command that sends none (most) never loads nodemailer.
  let pool: Nodemailer.Transporter | undefined;
  const transporter = () =>
    (pool ??= (createRequire(import.meta.url)("nodemailer") as typeof Nodemailer).createTransport({
      url,
      pool: true,
      maxConnections: 8,
      maxMessages: 500,
      ...scaledTimeouts(SENDER_TIMEOUTS, sending.timeScale),
      ...(sending.dkim ? { dkim: sending.dkim } : {}),
    } as never));
  // The pool's own handoff for a message composed here, without sendMail's per-message work (raw-handoff.ts).
  let handoff: RawHandoff | null | undefined;
  const fast = () => (handoff === undefined ? (handoff = rawHandoff(transporter())) : handoff);
  const handRaw: RawHandoff = (raw, messageId, envelope) => fast()?.(raw, messageId, envelope) ?? transporter().sendMail({ raw, messageId, envelope });
  return {
    kind: "smtp",
    handoffPath: () => (fast() ? "raw" : "sendMail"),
    async send(message, from) {
      // The outbox's writers check every recipient; this does not rely on them (ASVS 5.2.3): a recipient
      // that nodemailer could read as a group, a list or a header goes nowhere, and is not retried.
      if (!isOneAddress(message.recipient)) throw new MailDeliveryError("the recipient is not one email address", true);
      // The sender likewise (FAMOS_MAIL_FROM is checked at start): the envelope and nodemailer's composer
      // must not read two different senders out of one setting.
      const sender = parseMailbox(from);
      if (sender === null) throw new MailDeliveryError("the sender is not one mailbox", true);
      const envelopeFrom = sending.bounceDomain ? returnPathFor(message.id, sending.bounceDomain) : null;
      const raw = composeMessage(message, from, new Date());
      try {
        // The common message (ASCII addresses) is composed here in one pass; nodemailer's own composer
        // builds a tree of streams per message, which costs more CPU than the rest of its sign-in (issue 17).
        if (raw !== null) {
          await handRaw(raw, message.message_id, { from: envelopeFrom ?? sender.address, to: message.recipient });
          return;
        }
        const language = mailLanguage(message.html_body);
        await transporter().sendMail({
          from,
          to: message.recipient,
          subject: message.subject,
          text: message.text_body,
          html: message.html_body,
          messageId: message.message_id,
          ...(language ? { headers: { "Content-Language": language } } : {}),
          ...(envelopeFrom ? { envelope: { from: envelopeFrom, to: message.recipient } } : {}),
        });
      } catch (error) {
        const failure = failureOf(error);
        throw new MailDeliveryError(String((error as Error).message ?? error), failure.permanent, failure.addressRefused, failure.relay, failure.refusedByPolicy, failure.fault);
      }
    },
    close: () => pool?.close(),
  };
}

/**
 * The language a message is written in, for its Content-Language header (RFC 3282), or null: the lang
 * of its HTML part's root element, which the mail templates (src/otp/messages.ts: codeMail, noticeMail)
 * set to the reader's language, the one its text is written in. Read from the one place the message
 * states it rather than stored twice; only a BCP 47-shaped tag (letters, digits, hyphens) is taken, so
 * nothing else can reach a header.
 */
export function mailLanguage(html: string): string | null {
  return /^<!doctype html>\s*<html lang="([A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*)"/i.exec(html)?.[1] ?? null;
}

/** Printable ASCII without line breaks: a header value that needs no encoding. */
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * nodemailer's encoders, loaded at the first message composed. The header encoder is made once (a
 * node draws a random boundary when it is made): a line break becomes a space and control characters
 * or non-ASCII text become RFC 2047 encoded words (Q or B, whichever is shorter), so no subject can
 * add a header (ASVS 5.2.x).
 */
let encoders: { headerEncoder: InstanceType<typeof MimeNodeModule.default>; foldLines: typeof MimeFuncs.foldLines } | undefined;
function mimeEncoders(): NonNullable<typeof encoders> {
  if (encoders) return encoders;
  // Once: a code mail is composed on the sign-in's path (issue 17), and createRequire makes a module.
  const load = createRequire(import.meta.url);
  return (encoders = {
    headerEncoder: new (load("nodemailer/lib/mime-node") as typeof MimeNodeModule).default(),
    foldLines: (load("nodemailer/lib/mime-funcs") as typeof MimeFuncs).foldLines,
  });
}

/**
 * The Subject header line, encoded and folded: a subject is one per template and language (the code
 * mail's, each notice's), so each is encoded once, not per message (issue 17). Past 256 the kept
 * ones start again rather than grow.
 */
const subjectLines = new Kept<string, string>(256);
function subjectLine(subject: string): string {
  return subjectLines.get(subject, () => {
    const { headerEncoder, foldLines } = mimeEncoders();
    return foldLines(`Subject: ${PLAIN.test(subject) ? subject : headerEncoder.encodeHeaderValue("Subject", subject)}`, 76);
  });
}

/**
 * The message as nodemailer would send it — multipart/alternative, text then HTML, both
 * quoted-printable UTF-8 (quoted-printable.ts, one pass), the subject encoded by nodemailer's header
 * encoder when it is not plain ASCII (test/mail/compose.unit.test.ts parses both and compares) —
 * built as one string. Null when the From or To address is not plain ASCII (an
 * internationalised address): nodemailer's composer handles those.
 */
export function composeMessage(message: Pick<OutboxMessage, "recipient" | "subject" | "text_body" | "html_body" | "message_id">, from: string, date: Date): string | null {
  if (!PLAIN.test(from) || !PLAIN.test(message.recipient) || !PLAIN.test(message.message_id)) return null;
  // Unique, not secret (RFC 2046 §5.1.1: it must not occur in the parts, which are written before it
  // is drawn): cut from the shared pool, as ids are, not a CSPRNG call of its own (issue 17: ~25 µs).
  const boundary = `--_FAMOS_${cryptoRandom.bytes(12).toString("hex")}`;
  const language = mailLanguage(message.html_body);
  const part = (type: string, body: string) => `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${quotedPrintable(body)}`;
  return [
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    `From: ${from}`,
    `To: ${message.recipient}`,
    subjectLine(message.subject),
    `Message-ID: ${message.message_id}`,
    `Date: ${date.toUTCString().replace(/GMT/, "+0000")}`,
    "MIME-Version: 1.0",
    ...(language ? [`Content-Language: ${language}`] : []),
    "",
    part("text/plain", message.text_body),
    part("text/html", message.html_body),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/**
 * Development only: nothing leaves the machine; the message stays readable at /dev/mailbox and a
 * one-line notice goes to standard error.
 */
export function developmentTransport(mailboxUrl: string, write: (line: string) => void = (l) => process.stderr.write(l)): MailTransport {
  return {
    kind: "development",
    async send(message) {
      write(`[dev mail] to ${message.recipient}: "${message.subject}" (read it at ${mailboxUrl})\n`);
    },
    close: () => undefined,
  };
}
