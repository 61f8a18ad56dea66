import { simpleParser } from "mailparser";
import { statusBlamesAddress } from "./status.ts";

export type BounceKind = "hard" | "soft";

/** One recipient's report from a delivery status notification, classified. */
export interface RecipientReport {
  kind: BounceKind;
  /**
   * Final-Recipient without its address type ("rfc822;"), or null when the report has none: another address than
   * the one mailed when the receiving domain forwarded or expanded it (recordBounce: a forward's report).
   */
  recipient: string | null;
  /** The RFC 3463 status code, e.g. 5.1.1. */
  status: string | null;
  /** A short reason for people: the Diagnostic-Code, else the status. */
  reason: string;
}

/** The largest notification read (the original message may be attached to it). */
export const MAX_DSN_BYTES = 1024 * 1024;

/**
 * Reads a delivery status notification (RFC 3464: multipart/report; report-type=delivery-status,
 * with a message/delivery-status part) and returns one report per failed or delayed recipient.
 * Anything else (an auto-reply, a notice that a message was delivered) gives an empty list.
 */
export async function parseDsn(raw: Buffer | string): Promise<RecipientReport[]> {
  // keepDeliveryStatus: without it mailparser folds the status part into the text body.
  const parsed = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const part = parsed.attachments.find((a) => a.contentType.toLowerCase() === "message/delivery-status");
  if (!part) return [];
  return deliveryStatusReports(part.content.toString("utf8"));
}

/** RFC 3464 §2.1: a per-message block, then one block of fields per recipient, blank-line separated. */
export function deliveryStatusReports(body: string): RecipientReport[] {
  const blocks = body
    .replace(/\r\n/g, "\n")
    .split(/\n[ \t]*\n/)
    .map(fieldsOf)
    .filter((fields) => fields.size > 0);
  const reports: RecipientReport[] = [];
  for (const fields of blocks.slice(1)) {
    const report = classify(fields);
    if (report) reports.push(report);
  }
  return reports;
}

function fieldsOf(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  // Unfold continuation lines (RFC 5322 §2.2.3: drop the line break, keep the whitespace), then
  // split each field at its first colon.
  for (const line of block.replace(/\n(?=[ \t])/g, "").split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).replace(/[ \t]+/g, " ").trim());
  }
  return fields;
}

function classify(fields: Map<string, string>): RecipientReport | null {
  const action = fields.get("action")?.toLowerCase() ?? "";
  const status = /^([245])\.\d{1,3}\.\d{1,3}/.exec(fields.get("status") ?? "")?.[0] ?? null;
  const recipient = fields.get("final-recipient")?.replace(/^[^;]*;\s*/, "") ?? null;
  const diagnostic = fields.get("diagnostic-code")?.replace(/^[^;]*;\s*/, "") ?? null;
  const reason = (diagnostic ?? (status ? `status ${status}` : action)).slice(0, 300);
  if (action === "delayed") return { kind: "soft", recipient, status, reason };
  if (action !== "failed") return null; // delivered, relayed, expanded: nothing went wrong
  // Hard only when the status blames the recipient's address (statusBlamesAddress: not 5.2.2 mailbox
  // full, RFC 3463 §3.3; not the sender's address, the relay's policy, the system or the network): any
  // other failure is counted as soft, and says nothing against the address.
  return { kind: statusBlamesAddress(status, "report") ? "hard" : "soft", recipient, status, reason };
}
