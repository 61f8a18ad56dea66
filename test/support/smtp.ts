import { EventEmitter } from "node:events";
import type { AddressInfo } from "node:net";
import { simpleParser, type AddressObject, type HeaderValue } from "mailparser";
import { SMTPServer, type SMTPServerError } from "smtp-server";

/** One message as the test SMTP server received it, parsed by mailparser. */
export interface ReceivedMail {
  /** RCPT TO addresses of the SMTP envelope. */
  envelopeTo: string[];
  /** MAIL FROM address of the SMTP envelope ("" for the null sender). */
  envelopeFrom: string;
  /** The From: header as text, e.g. `"FAMOS" <no-reply@famos.example>`. */
  from: string;
  /** The To: header as text (several headers/groups joined with ", "). */
  to: string;
  subject: string;
  text: string;
  /** The HTML part, "" when the message has none. */
  html: string;
  messageId: string;
  /** Lower-case header names to mailparser's parsed values. */
  headers: Map<string, HeaderValue>;
  /** User name the client authenticated with, if it did. */
  authUser?: string;
  /** The message exactly as it came over the DATA command. */
  raw: string;
}

export interface SmtpServerOptions {
  /** Port to listen on (default 0: a free port chosen by the system). */
  port?: number;
  /** Start in outage mode (see `refuse`). */
  refuse?: boolean;
  /** Require AUTH with one of these user names and passwords (a wrong one is answered 535). */
  users?: Record<string, string>;
}

export interface TestSmtpServer {
  port: number;
  /** `smtp://127.0.0.1:<port>?ignoreTLS=true`, usable as a nodemailer transport URL. */
  url: string;
  /** Every message received so far, oldest first. */
  messages: ReceivedMail[];
  /**
   * Resolves with the first message (already received or arriving later) that matches the predicate,
   * or rejects once `timeoutMs` (default 5000) have passed without one.
   */
  waitForMessage(predicate?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Forgets the messages received so far. */
  clear(): void;
  /** While on, every MAIL FROM is answered `451` (a temporary failure), as in a mail outage. */
  refuse(on: boolean): void;
  /**
   * While on, every RCPT TO is answered `code` (default `550`, a permanent failure: the mailbox does
   * not exist), with `words` (default "5.1.1 Mailbox does not exist (test rejection)"); with `only`,
   * just those recipients are refused (a receiving domain's policy for one mailbox) and others taken.
   */
  rejectPermanently(on: boolean, code?: number, words?: string, only?: string[]): void;
  /**
   * While on, every MAIL FROM is answered `code` with `words` (a relay that refuses FAMOS's sender:
   * "553 5.7.1 Sender address rejected: not owned by user"); off (the default) takes it. `refuse` wins.
   */
  refuseSender(on: boolean, code?: number, words?: string): void;
  /**
   * Holds the reply to each message's DATA for `ms` (0: answer at once). The message is already in
   * `messages` while the client waits, as with a real server that has stored it but not yet said so.
   * `Infinity` holds every reply until the next call (a killed client must never have heard one,
   * however slow the machine); that call answers the held ones.
   */
  delayData(ms: number): void;
  /**
   * While on, the server stores each message and then drops the connection instead of answering the
   * end of DATA (a relay restarting, a firewall cutting the idle session): it has the message, the
   * client never hears so.
   */
  dropAfterData(on: boolean): void;
  /**
   * Holds every MAIL FROM until `release` settles, then answers it `451` (a relay's temporary failure):
   * a try that fails while its sender holds the message (its lease live). Off once released, so the
   * retries are taken. `held()`: how many MAIL FROMs are waiting now.
   */
  failHeld(release: Promise<void>): { held(): number };
  stop(): Promise<void>;
}

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (value === undefined) return "";
  return (Array.isArray(value) ? value : [value]).map((address) => address.text).join(", ");
}

function describe(mail: ReceivedMail): string {
  return `to ${mail.envelopeTo.join(", ") || "(nobody)"}: "${mail.subject}"`;
}

/** Starts an SMTP server on 127.0.0.1 that accepts any mail (no auth, no STARTTLS) and keeps it in memory. */
const MAILBOX_DOES_NOT_EXIST = "5.1.1 Mailbox does not exist (test rejection)";

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const arrivals = new EventEmitter();
  arrivals.setMaxListeners(0);
  let refusing = options.refuse ?? false;
  let rejecting = false;
  let rejectCode = 550;
  let rejectWords = MAILBOX_DOES_NOT_EXIST;
  let rejectOnly: Set<string> | null = null;
  let senderRefusal: { code: number; words: string } | null = null;
  let dataDelayMs = 0;
  let dropping = false;
  const held: (() => void)[] = [];
  let holding: { release: Promise<void>; waiting: number } | null = null;

  const server = new SMTPServer({
    authOptional: options.users === undefined,
    allowInsecureAuth: true, // AUTH is offered without TLS and any credentials are accepted
    disabledCommands: ["STARTTLS"],
    hideSTARTTLS: true,
    disableReverseLookup: true, // no DNS on this machine's closed network
    logger: false,
    closeTimeout: 250,
    size: 10 * 1024 * 1024,
    onAuth(auth, _session, callback) {
      const users = options.users;
      if (users !== undefined && (auth.username === undefined || users[auth.username] !== auth.password)) {
        const error: SMTPServerError = new Error("5.7.8 Authentication credentials invalid");
        error.responseCode = 535;
        callback(error);
        return;
      }
      callback(null, { user: auth.username ?? "anonymous" });
    },
    onMailFrom(_address, _session, callback) {
      const hold = holding;
      if (hold !== null) {
        hold.waiting += 1;
        void hold.release.finally(() => {
          hold.waiting -= 1;
          const error: SMTPServerError = new Error("4.3.0 Try again later (test: failed while held)");
          error.responseCode = 451;
          callback(error);
        });
        return;
      }
      if (refusing) {
        const error: SMTPServerError = new Error("4.3.0 Mail service temporarily unavailable (test outage)");
        error.responseCode = 451;
        callback(error);
        return;
      }
      if (senderRefusal !== null) {
        const error: SMTPServerError = new Error(senderRefusal.words);
        error.responseCode = senderRefusal.code;
        callback(error);
        return;
      }
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (rejecting && (rejectOnly === null || rejectOnly.has(address.address.toLowerCase()))) {
        const error: SMTPServerError = new Error(rejectWords);
        error.responseCode = rejectCode;
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (error: Error) => callback(error));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        simpleParser(raw).then(
          (parsed) => {
            const mailFrom = session.envelope.mailFrom;
            const mail: ReceivedMail = {
              envelopeTo: session.envelope.rcptTo.map((recipient) => recipient.address),
              envelopeFrom: mailFrom === false ? "" : mailFrom.address,
              from: addressText(parsed.from),
              to: addressText(parsed.to),
              subject: parsed.subject ?? "",
              text: parsed.text ?? "",
              html: typeof parsed.html === "string" ? parsed.html : "",
              messageId: parsed.messageId ?? "",
              headers: parsed.headers,
              raw,
            };
            if (typeof session.user === "string") mail.authUser = session.user;
            // Stored before the client hears "250", so a resolved sendMail() means the mail is here.
            messages.push(mail);
            arrivals.emit("mail", mail);
            if (dropping) {
              const connections = (server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections;
              for (const connection of connections) if (connection.session === session) connection._socket.destroy();
              return;
            }
            if (dataDelayMs === Infinity) held.push(() => callback());
            else if (dataDelayMs > 0) setTimeout(() => callback(), dataDelayMs);
            else callback();
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      });
    },
  });
  server.on("error", () => undefined); // client errors (resets) must not crash the test process

  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.server.off("error", reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    messages,
    waitForMessage(predicate = () => true, timeoutMs = 5000) {
      const found = messages.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<ReceivedMail>((resolve, reject) => {
        const onMail = (mail: ReceivedMail) => {
          if (!predicate(mail)) return;
          clearTimeout(timer);
          arrivals.off("mail", onMail);
          resolve(mail);
        };
        const timer = setTimeout(() => {
          arrivals.off("mail", onMail);
          const seen = messages.length === 0 ? "none" : messages.map(describe).join("; ");
          reject(
            new Error(
              `test SMTP server on port ${port}: no matching message arrived within ${timeoutMs} ms ` +
                `(received ${messages.length}: ${seen})`,
            ),
          );
        }, timeoutMs);
        arrivals.on("mail", onMail);
      });
    },
    clear() {
      messages.length = 0;
    },
    refuse(on) {
      refusing = on;
    },
    rejectPermanently(on, code = 550, words = MAILBOX_DOES_NOT_EXIST, only) {
      rejecting = on;
      rejectOnly = only === undefined ? null : new Set(only.map((a) => a.toLowerCase()));
      rejectCode = code;
      rejectWords = words;
    },
    refuseSender(on, code = 553, words = "5.7.1 Sender address rejected: not owned by user") {
      senderRefusal = on ? { code, words } : null;
    },
    delayData(ms) {
      dataDelayMs = ms;
      if (ms !== Infinity) for (const answer of held.splice(0)) answer();
    },
    dropAfterData(on) {
      dropping = on;
    },
    failHeld(release) {
      const hold = { release, waiting: 0 };
      holding = hold;
      void release.finally(() => {
        if (holding === hold) holding = null;
      });
      return { held: () => hold.waiting };
    },
    stop() {
      for (const answer of held.splice(0)) answer();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The first 6-digit number in the text (a one-time passcode); throws when there is none. */
export function extractCode(text: string): string {
  const match = /(?<!\d)\d{6}(?!\d)/.exec(text);
  if (match === null) {
    throw new Error(`no 6-digit code in: ${JSON.stringify(text.length > 500 ? `${text.slice(0, 500)}…` : text)}`);
  }
  return match[0];
}
