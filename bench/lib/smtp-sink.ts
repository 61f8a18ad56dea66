/**
 * A real SMTP server on 127.0.0.1 that takes every message, pulls the one-time code out of it and lets a
 * scenario wait (event-driven, no polling) for the newest code sent to an address.
 *
 * Each message records `acceptedAt`, the `performance.now()` time at which its DATA was fully received
 * (just before the server answers 250), in the clock of the process that hosts the sink. The driver
 * hosts the sink in its own process, so a scenario can subtract the time it sent the request that caused
 * the mail and get "code request → SMTP acceptance".
 */
import { performance } from "node:perf_hooks";
import { SMTPServer } from "smtp-server";
import type { AddressInfo } from "node:net";

export interface SinkMessage {
  to: string;
  code: string | null;
  acceptedAt: number;
  size: number;
}

export interface WaitOptions {
  /** Only a message accepted at or after this `performance.now()` time counts. */
  since?: number;
  timeoutMs?: number;
}

interface Waiter {
  since: number;
  resolve: (message: SinkMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface Mailbox {
  /** Newest last; only the last few are kept. */
  messages: SinkMessage[];
  waiters: Set<Waiter>;
}

const KEEP_PER_ADDRESS = 4;
const DEFAULT_CODE_PATTERN = /(?<![\d])(\d{6})(?![\d])/;

export class SmtpSink {
  private server: SMTPServer | null = null;
  private readonly boxes = new Map<string, Mailbox>();
  private readonly pattern: RegExp;
  received = 0;
  withoutCode = 0;
  port = 0;

  constructor(options: { codePattern?: RegExp } = {}) {
    this.pattern = options.codePattern ?? DEFAULT_CODE_PATTERN;
  }

  async start(port = 0): Promise<number> {
    const server = new SMTPServer({
      name: "bench-sink.test",
      banner: "bench sink",
      logger: false,
      secure: false,
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      closeTimeout: 500,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", callback);
        stream.on("end", () => {
          const acceptedAt = performance.now();
          const raw = Buffer.concat(chunks).toString("latin1");
          const code = extractCode(raw, this.pattern);
          for (const rcpt of session.envelope.rcptTo) this.deliver({ to: rcpt.address, code, acceptedAt, size: raw.length });
          callback();
        });
      },
    });
    server.on("error", () => {
      /* a client that drops its connection is not our failure */
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  private box(address: string): Mailbox {
    const key = address.toLowerCase();
    let box = this.boxes.get(key);
    if (!box) {
      box = { messages: [], waiters: new Set() };
      this.boxes.set(key, box);
    }
    return box;
  }

  private deliver(message: SinkMessage): void {
    this.received++;
    if (message.code === null) this.withoutCode++;
    const box = this.box(message.to);
    box.messages.push(message);
    if (box.messages.length > KEEP_PER_ADDRESS) box.messages.shift();
    if (message.code === null) return;
    for (const waiter of box.waiters) {
      if (message.acceptedAt >= waiter.since) {
        clearTimeout(waiter.timer);
        box.waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  }

  /** The newest message with a code for `address` accepted at or after `since`, waiting for it if need be. */
  waitForCode(address: string, options: WaitOptions = {}): Promise<SinkMessage> {
    const since = options.since ?? 0;
    const box = this.box(address);
    for (let i = box.messages.length - 1; i >= 0; i--) {
      const m = box.messages[i] as SinkMessage;
      if (m.acceptedAt < since) break;
      if (m.code !== null) return Promise.resolve(m);
    }
    return new Promise<SinkMessage>((resolve, reject) => {
      const waiter: Waiter = {
        since,
        resolve,
        reject,
        timer: setTimeout(() => {
          box.waiters.delete(waiter);
          reject(new Error(`no code for ${address} within ${options.timeoutMs ?? 10_000} ms`));
        }, options.timeoutMs ?? 10_000),
      };
      box.waiters.add(waiter);
    });
  }

  /** The newest message for an address, if any (for checks and debugging). */
  latest(address: string): SinkMessage | undefined {
    return this.boxes.get(address.toLowerCase())?.messages.at(-1);
  }

  async close(): Promise<void> {
    for (const box of this.boxes.values()) {
      for (const w of box.waiters) {
        clearTimeout(w.timer);
        w.reject(new Error("sink closed"));
      }
      box.waiters.clear();
    }
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// --- a small MIME reader: enough to find a code in what nodemailer and friends send ---------------

interface Part {
  headers: Map<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  let cut = raw.indexOf("\r\n\r\n");
  let sep = 4;
  if (cut < 0) {
    cut = raw.indexOf("\n\n");
    sep = 2;
  }
  const head = cut < 0 ? raw : raw.slice(0, cut);
  const body = cut < 0 ? "" : raw.slice(cut + sep);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get("content-transfer-encoding") ?? "").toLowerCase();
  if (encoding === "base64") return Buffer.from(part.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = part.body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return Buffer.from(part.body, "latin1").toString("utf8");
}

/** Text bodies of a message, text/plain first, then HTML with its tags removed. */
function textsOf(raw: string): string[] {
  const plain: string[] = [];
  const html: string[] = [];
  const walk = (part: Part, depth: number): void => {
    const type = (part.headers.get("content-type") ?? "text/plain").toLowerCase();
    if (type.startsWith("multipart/") && depth < 8) {
      const m = /boundary="?([^";]+)"?/i.exec(part.headers.get("content-type") ?? "");
      if (!m) return;
      const boundary = `--${m[1]}`;
      const pieces = part.body.split(boundary);
      for (const piece of pieces.slice(1)) {
        if (piece.startsWith("--")) break;
        walk(splitPart(piece.replace(/^\r?\n/, "")), depth + 1);
      }
      return;
    }
    if (type.startsWith("text/html")) html.push(decodeBody(part).replace(/<[^>]*>/g, " ").replace(/&nbsp;/g, " "));
    else if (type.startsWith("text/")) plain.push(decodeBody(part));
  };
  walk(splitPart(raw), 0);
  return [...plain, ...html];
}

export function extractCode(raw: string, pattern: RegExp = DEFAULT_CODE_PATTERN): string | null {
  for (const text of textsOf(raw)) {
    const m = pattern.exec(text);
    if (m) return m[1] ?? m[0];
  }
  return null;
}
