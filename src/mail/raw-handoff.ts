import { createRequire } from "node:module";
import { Readable } from "node:stream";
import type * as Nodemailer from "nodemailer";
import type * as SmtpPoolModule from "nodemailer/lib/smtp-pool";

/**
 * A message composed here (transport.ts composeMessage) handed to nodemailer's SMTP pool as it is.
 *
 * `sendMail({ raw, envelope, messageId })` costs several hundred µs of CPU per message before the
 * pool sees it (issue 17; bench/mail-compose.ts --handoff): a MailMessage, the compile plugins, a
 * MailComposer, a MimeNode that draws a boundary the raw message never uses, the envelope parsed
 * again, a pipeline of streams. The pool itself (its connections, TLS, AUTH, requeues and the errors
 * with their codes and replies) reads only what `PoolMail` below has: nodemailer 10's
 * smtp-pool/index.js and pool-resource.js. So the pool gets that, the message streamed from one
 * buffer, and the rest stays nodemailer's. test/mail/raw-handoff.test.ts pins it: the bytes on the
 * wire, the envelope, the Message-ID, the result and the errors are those of `sendMail`, with and
 * without DKIM; a nodemailer that reads more of a message fails that test, not a delivery.
 *
 * Not taken (null, and the caller uses sendMail): a transport that is not nodemailer's SMTPPool (a
 * URL's `?pool=false`), or an envelope address that nodemailer would rewrite (see PLAIN_ENVELOPE).
 */
export type RawHandoff = (raw: string, messageId: string, envelope: { from: string; to: string }) => Promise<unknown>;

/** What the pool and its connection read of a message (mail.data: signal, dsn, requireTLSExtensionEnabled; none set here). */
interface PoolMail {
  data: Record<string, never>;
  message: {
    getHeader(key: string): string;
    messageId(): string;
    getEnvelope(): { from: string; to: string[] };
    createReadStream(): Readable;
  };
}

/** The parts of nodemailer's Mail (mailer/index.js) used: its transport, its proxy socket, its DKIM signer. */
interface Mailer {
  transporter: { send(mail: PoolMail, callback: (error: Error | null, info?: unknown) => void): unknown; getSocket?: unknown };
  getSocket?: unknown;
  dkim: false | { sign(input: Readable): Readable };
}

/**
 * An address nodemailer's envelope parser (MimeNode setEnvelope: addressparser, then _normalizeAddress)
 * leaves as it is: a dot-atom local part of ASCII atext and a lower-case ASCII host name that is not
 * an A-label (those are re-encoded). Anything else goes through sendMail, which rewrites it.
 */
const LABEL = "(?![a-z0-9]{2}--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?";
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
export const PLAIN_ENVELOPE = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*@${LABEL}(?:\\.${LABEL})*$`);

/** The handoff for this nodemailer transporter, or null when it is not an SMTP pool. */
export function rawHandoff(transporter: Nodemailer.Transporter): RawHandoff | null {
  const mailer = transporter as unknown as Mailer;
  const SMTPPool = (createRequire(import.meta.url)("nodemailer/lib/smtp-pool") as { default?: typeof SmtpPoolModule } & typeof SmtpPoolModule) as unknown as new () => object;
  if (!(mailer.transporter instanceof SMTPPool)) return null;
  return (raw, messageId, envelope) => {
    if (!PLAIN_ENVELOPE.test(envelope.from) || !PLAIN_ENVELOPE.test(envelope.to)) return transporter.sendMail({ raw, messageId, envelope });
    // As sendMail does first: a proxy's socket maker (the URL's ?proxy=) moves to the transport.
    if (typeof mailer.getSocket === "function") {
      mailer.transporter.getSocket = mailer.getSocket;
      mailer.getSocket = false;
    }
    const bytes = Buffer.from(raw, "utf8");
    const mail: PoolMail = {
      data: {},
      message: {
        getHeader: (key) => (key.toLowerCase() === "message-id" ? messageId : ""),
        messageId: () => messageId,
        // A new object per try: the connection writes its progress (accepted, rejected) into it.
        getEnvelope: () => ({ from: envelope.from, to: [envelope.to] }),
        // A new stream per try (a message requeued after its connection closed is read again).
        createReadStream() {
          const stream = new Readable({
            read() {
              this.push(bytes);
              this.push(null);
            },
          });
          return mailer.dkim ? mailer.dkim.sign(stream) : stream;
        },
      },
    };
    return new Promise((resolve, reject) => {
      mailer.transporter.send(mail, (error, info) => (error ? reject(error) : resolve(info)));
    });
  };
}
