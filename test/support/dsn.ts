import nodemailer from "nodemailer";
import type { ReceivedMail } from "./smtp.ts";

export interface DsnOptions {
  action: "failed" | "delayed";
  status: string;
  diagnostic: string;
  /** The Final-Recipient the reporting server names, when not the address FAMOS mailed (a forward, a group's member). */
  finalRecipient?: string;
}

/**
 * A delivery status notification as a receiving MTA writes it (RFC 3464 §2, RFC 6522
 * multipart/report): a human-readable part, the message/delivery-status part, and the headers of
 * the message it reports on. Several `reports`: one recipient block each, as Postfix writes one report of
 * a message its server expanded to several mailboxes (a shared address's forwards), each naming its own
 * Final-Recipient with the address mailed as Original-Recipient.
 */
export function dsnFor(original: ReceivedMail, ...reports: [DsnOptions, ...DsnOptions[]]): string {
  const boundary = "=_report_boundary_1";
  const headerEnd = original.raw.search(/\r?\n\r?\n/);
  const originalHeaders = original.raw.slice(0, headerEnd).replace(/\r?\n/g, "\r\n");
  const recipient = original.envelopeTo[0]!;
  const failed = reports.some((r) => r.action === "failed");
  return [
    "From: Mail Delivery System <MAILER-DAEMON@mx.dealer.example>",
    `To: ${original.envelopeFrom}`,
    `Subject: ${failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)"}`,
    "Date: Sat, 28 Nov 2026 14:00:05 +0000",
    "Message-ID: <dsn.1@mx.dealer.example>",
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    failed ? "Your message could not be delivered to one or more recipients." : "Delivery of your message has been delayed.",
    "Status: this line in the human-readable part must not be read as the report.",
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.dealer.example",
    "X-Postfix-Queue-ID: 4ABCDEF",
    `X-Postfix-Sender: rfc822; ${original.envelopeFrom}`,
    "Arrival-Date: Sat, 28 Nov 2026 14:00:01 +0000",
    ...reports.flatMap((report) => [
      "",
      `Final-Recipient: rfc822; ${report.finalRecipient ?? recipient}`,
      `Original-Recipient: rfc822;${recipient}`,
      `Action: ${report.action}`,
      `Status: ${report.status}`,
      "Remote-MTA: dns; mailstore.dealer.example",
      // A folded field (RFC 5322 §2.2.3: a line break before whitespace), as real reports have.
      ...foldedDiagnostic(report.diagnostic),
      ...(report.action === "delayed" ? ["Will-Retry-Until: Sat, 3 Dec 2026 14:00:01 +0000"] : []),
    ]),
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    originalHeaders,
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

function foldedDiagnostic(text: string): string[] {
  const at = text.indexOf(" ", 24);
  return at < 0 ? [`Diagnostic-Code: smtp; ${text}`] : [`Diagnostic-Code: smtp; ${text.slice(0, at)}`, `   ${text.slice(at)}`];
}

/** Sends a message over SMTP from the null sender (RFC 5321 §4.5.5: reports are sent with MAIL FROM:<>). */
export async function sendFromNullSender(port: number, to: string, raw: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from: "", to: [to] }, raw });
  } finally {
    transport.close();
  }
}
