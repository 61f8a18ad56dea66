import { readFileSync } from "node:fs";
import nodemailer from "nodemailer";
import { returnPathFor } from "../bounce/verp.ts";
import type { Config } from "../config/config.ts";
import type { OutboxMessage } from "./outbox.ts";

/** Hands one message to the next hop. Throws on failure; `permanent` errors are not retried. */
export interface MailTransport {
  send(message: OutboxMessage, from: string): Promise<void>;
  close(): void;
  /** "development": nothing leaves the machine; the development mailbox reads the outbox instead. */
  kind?: "smtp" | "development";
}

export class MailDeliveryError extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
  }
}

/** What every outgoing message gets besides its content: a VERP return path and a DKIM signature. */
export interface SendingOptions {
  /** FAMOS_BOUNCE_DOMAIN: the envelope sender becomes bounce+<outbox id>@ this domain. */
  bounceDomain?: string | null;
  /** nodemailer's dkim option (RFC 6376), from FAMOS_DKIM_*. */
  dkim?: { domainName: string; keySelector: string; privateKey: string } | null;
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

/** SMTP through nodemailer; the URL may carry nodemailer's query options (?ignoreTLS=true …). */
export function smtpTransport(url: string, sending: SendingOptions = {}): MailTransport {
  // A pool keeps connections open, so a burst of sign-ins does not pay a TCP+TLS handshake each.
  // Timeouts well inside the outbox lease (60 s): a send that hangs gives up and is retried before
  // another instance could take the message as abandoned and send it a second time.
  const transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 4,
    maxMessages: 500,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    ...(sending.dkim ? { dkim: sending.dkim } : {}),
  } as never);
  return {
    async send(message, from) {
      try {
        await transporter.sendMail({
          from,
          to: message.recipient,
          subject: message.subject,
          text: message.text_body,
          html: message.html_body,
          messageId: message.message_id,
          ...(sending.bounceDomain
            ? { envelope: { from: returnPathFor(message.id, sending.bounceDomain), to: message.recipient } }
            : {}),
        });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        // RFC 5321 §4.2.1: 5yz replies are permanent, 4yz transient; no reply at all is transient.
        throw new MailDeliveryError(String((error as Error).message ?? error), code !== undefined && code >= 500);
      }
    },
    close: () => transporter.close(),
  };
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
