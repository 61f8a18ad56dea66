/**
 * The code mail's MIME building alone, µs of CPU per message (process.cpuUsage, not wall time): the product's builder (src/mail/transport.ts
 * composeMessage) on code mails in every language, as the sender builds them (one per sign-in), and
 * beside it a base checkout's builder in the same process, A then B then A then B (ratios within one
 * run; the machine's load moves absolute figures). `--parts` splits the base builder's time into its
 * steps (nodemailer's quoted-printable encode and wrap, the subject's RFC 2047 words, the rest), and
 * `--handoff` times nodemailer's own work on a prebuilt `raw` message (sendMail into a stream transport:
 * the MailMessage, the composer's one raw node, the envelope), then the product's path over SMTP:
 * the pool's sendMail({ raw }) against src/mail/raw-handoff.ts, alternated, to a sink in a child process.
 *
 *   node --import tsx bench/mail-compose.ts [--base /tmp/mail-base] [--messages 20000] [--rounds 4] [--parts] [--handoff]
 */
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { parseArgs } from "node:util";
import type * as Nodemailer from "nodemailer";
import type * as Qp from "nodemailer/lib/qp";
import type * as MimeNodeModule from "nodemailer/lib/mime-node";
import { LOCALES } from "../src/i18n/locales.ts";
import { quotedPrintable } from "../src/mail/quoted-printable.ts";
import { rawHandoff } from "../src/mail/raw-handoff.ts";
import { composeMessage } from "../src/mail/transport.ts";
import { codeMail } from "../src/otp/messages.ts";

const { values: argv } = parseArgs({
  options: {
    base: { type: "string", default: "/tmp/mail-base" },
    messages: { type: "string", default: "20000" },
    rounds: { type: "string", default: "4" },
    parts: { type: "boolean", default: false },
    handoff: { type: "boolean", default: false },
  },
});
const N = Number(argv.messages);

/** A minimal SMTP server (PIPELINING, every command taken), run as a child process by --handoff. */
const SMTP_SINK = `
const server = require("node:net").createServer((socket) => {
  let data = false, rest = "";
  socket.setEncoding("latin1");
  socket.write("220 sink ESMTP\\r\\n");
  socket.on("data", (chunk) => {
    const lines = (rest + chunk).split("\\r\\n");
    rest = lines.pop();
    let out = "";
    for (const line of lines) {
      if (data) { if (line === ".") { data = false; out += "250 2.0.0 queued\\r\\n"; } continue; }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO") out += "250-sink\\r\\n250-PIPELINING\\r\\n250-8BITMIME\\r\\n250 SMTPUTF8\\r\\n";
      else if (verb === "DATA") { data = true; out += "354 go\\r\\n"; }
      else if (verb === "QUIT") { socket.end("221 bye\\r\\n"); return; }
      else out += "250 ok\\r\\n";
    }
    if (out) socket.write(out);
  });
  socket.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => process.stdout.write(String(server.address().port)));
`;
const FROM = "FAMOS <noreply@famos.test>";
const AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
type Compose = typeof composeMessage;

/** 64 code mails: each language, sign-in and enrolment, different codes, login IDs and moments (the variable parts). */
const messages = Array.from({ length: 64 }, (_, i) => {
  const locale = LOCALES[i % LOCALES.length]!;
  const at = Date.UTC(2026, 11, 6, 9, i, 0);
  const mail = codeMail({ code: String(100000 + i * 7919).slice(0, 6), loginId: `user.${i}`, purpose: i % 4 === 3 ? "enrol" : "signin", ttlMs: 15 * 60_000, expiresAt: at + 15 * 60_000, timezone: "Europe/Berlin", supportEmail: "retailit@famos.test", requestedBy: { ip: `203.0.113.${i}`, userAgent: AGENT }, locale });
  return { recipient: `user.${i}@dealer.test`, subject: mail.subject, text_body: mail.text, html_body: mail.html, message_id: `<m${i}abcdefgh@famos.test>` };
});

/** The process's CPU time since `start`, µs: on a shared machine, time waited for a core is not counted (wall time is). */
function cpuUs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

function perMessage(compose: Compose): number {
  const date = new Date(Date.UTC(2026, 11, 6, 9, 0, 0));
  let bytes = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) bytes += compose(messages[i % messages.length]!, FROM, date)!.length;
  const us = cpuUs(start) / N;
  if (bytes === 0) throw new Error("nothing built");
  return us;
}

const base = (await import(`${argv.base}/src/mail/transport.ts`)) as { composeMessage: Compose };
const builders: [string, Compose][] = [
  ["A base", base.composeMessage],
  ["B this", composeMessage],
];
// Warm both (the JIT, the encoders' first load, any per-language state) before anything is timed.
for (const [, compose] of builders) for (let i = 0; i < 2000; i++) compose(messages[i % messages.length]!, FROM, new Date());

const figures = new Map<string, number[]>(builders.map(([name]) => [name, []]));
for (let round = 0; round < Number(argv.rounds); round++) {
  for (const [name, compose] of builders) {
    const us = perMessage(compose);
    figures.get(name)!.push(us);
    console.log(`round ${round + 1} ${name}: ${us.toFixed(2)} µs per message (${N} messages)`);
  }
}
const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
};
const [a, b] = [median(figures.get("A base")!), median(figures.get("B this")!)];
console.log(`B ÷ A ${(b / a).toFixed(3)} (medians ${b.toFixed(2)} ÷ ${a.toFixed(2)} µs); mean sizes: text ${avg((m) => m.text_body.length)} html ${avg((m) => m.html_body.length)} characters`);

function avg(f: (m: (typeof messages)[number]) => number): number {
  return Math.round(messages.reduce((s, m) => s + f(m), 0) / messages.length);
}

if (argv.parts) {
  const load = createRequire(import.meta.url);
  const qp = load("nodemailer/lib/qp") as typeof Qp;
  const header = new (load("nodemailer/lib/mime-node") as typeof MimeNodeModule).default();
  const time = (what: string, f: (m: (typeof messages)[number]) => unknown) => {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) f(messages[i % messages.length]!);
    console.log(`  ${what}: ${(cpuUs(start) / N).toFixed(2)} µs per message`);
  };
  console.log("base builder's steps:");
  const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");
  time("line ends + qp.encode, both parts", (m) => [qp.encode(Buffer.from(crlf(m.text_body))), qp.encode(Buffer.from(crlf(m.html_body)))]);
  const encoded = messages.map((m) => [qp.encode(Buffer.from(crlf(m.text_body))), qp.encode(Buffer.from(crlf(m.html_body)))] as const);
  let k = 0;
  time("qp.wrap, both parts", () => {
    const [t, h] = encoded[k++ % encoded.length]!;
    return [qp.wrap(t, 76), qp.wrap(h, 76)];
  });
  console.log("this builder's steps:");
  time("quotedPrintable, both parts", (m) => [quotedPrintable(m.text_body), quotedPrintable(m.html_body)]);
  time("subject (encodeHeaderValue when not ASCII)", (m) => (/^[\x20-\x7e]*$/.test(m.subject) ? m.subject : header.encodeHeaderValue("Subject", m.subject)));
}

if (argv.handoff) {
  const nodemailer = createRequire(import.meta.url)("nodemailer") as typeof Nodemailer;
  const raws = messages.map((m) => composeMessage(m, FROM, new Date())!);
  const envelopeOf = (i: number) => ({ from: "bounce+outbox0001@bounces.famos.test", to: messages[i % messages.length]!.recipient });
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true });
  let start = process.cpuUsage();
  const n = Math.min(N, 5000);
  for (let i = 0; i < n; i++) await stream.sendMail({ raw: raws[i % raws.length]!, messageId: messages[i % messages.length]!.message_id, envelope: envelopeOf(i) });
  console.log(`nodemailer's handoff of a raw message (stream transport, buffered): ${(cpuUs(start) / n).toFixed(2)} µs of CPU per message (${n})`);

  // The product's path: nodemailer's SMTP pool over a socket to a sink in another process (its CPU
  // is not this process's), sendMail({ raw }) (A) against raw-handoff.ts (B), alternated.
  const sink = spawn(process.execPath, ["-e", SMTP_SINK], { stdio: ["ignore", "pipe", "inherit"] });
  const [port] = (await once(sink.stdout!, "data")) as [Buffer];
  const pool = nodemailer.createTransport({ url: `smtp://127.0.0.1:${Number(port.toString())}?ignoreTLS=true`, pool: true, maxConnections: 1, maxMessages: Infinity } as never);
  const handoff = rawHandoff(pool)!;
  const paths: [string, (i: number) => Promise<unknown>][] = [
    ["A sendMail({ raw })", (i) => pool.sendMail({ raw: raws[i % raws.length]!, messageId: messages[i % messages.length]!.message_id, envelope: envelopeOf(i) })],
    ["B rawHandoff", (i) => handoff(raws[i % raws.length]!, messages[i % messages.length]!.message_id, envelopeOf(i))],
  ];
  for (const [, send] of paths) for (let i = 0; i < 500; i++) await send(i);
  const sent = new Map<string, number[]>(paths.map(([name]) => [name, []]));
  for (let round = 0; round < Number(argv.rounds); round++) {
    for (const [name, send] of paths) {
      start = process.cpuUsage();
      for (let i = 0; i < n; i++) await send(i);
      const us = cpuUs(start) / n;
      sent.get(name)!.push(us);
      console.log(`round ${round + 1} ${name}: ${us.toFixed(2)} µs of CPU per message over SMTP (${n}, the client's side)`);
    }
  }
  const [old, now] = [median(sent.get("A sendMail({ raw })")!), median(sent.get("B rawHandoff")!)];
  console.log(`handoff B ÷ A ${(now / old).toFixed(3)} (medians ${now.toFixed(2)} ÷ ${old.toFixed(2)} µs; ${(old - now).toFixed(1)} µs less per message)`);
  pool.close();
  sink.kill();
}
