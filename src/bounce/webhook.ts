import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Deps } from "../app/deps.ts";
import { recordBounce } from "./record-bounce.ts";
import { statusBlamesAddress } from "./status.ts";
import { outboxIdFromReturnPath } from "./verp.ts";

/**
 * The webhook's body: one report or a list. A provider names the message by the Message-ID FAMOS
 * gave it, or by the envelope sender (our VERP return path); `type` is the provider's verdict.
 */
const REPORT = z
  .object({
    messageId: z.string().max(300).optional(),
    returnPath: z.string().max(300).optional(),
    type: z.enum(["hard", "soft"]),
    status: z.string().regex(/^[245]\.\d{1,3}\.\d{1,3}$/).optional(),
    reason: z.string().max(1000).optional(),
    /** The address the provider failed, if it says: another than the one mailed is a forward's (recordBounce). */
    recipient: z.string().max(300).optional(),
  })
  .strict()
  .refine((r) => r.messageId !== undefined || r.returnPath !== undefined, { message: "give messageId or returnPath" });
export const WEBHOOK_BODY = z.union([REPORT, z.array(REPORT).min(1).max(100)]);
export type WebhookBody = z.infer<typeof WEBHOOK_BODY>;

/** Constant-time comparison of the shared secret (both sides hashed first, so lengths never leak). */
export function webhookSecretMatches(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export interface WebhookResult {
  recorded: number;
  duplicates: number;
  unknown: number;
}

/** Records each report; a message FAMOS never sent is counted as unknown, not an error. */
export async function takeWebhookReports(deps: Deps, body: WebhookBody): Promise<WebhookResult> {
  const result: WebhookResult = { recorded: 0, duplicates: 0, unknown: 0 };
  for (const report of Array.isArray(body) ? body : [body]) {
    const outboxId = await outboxIdOf(deps, report);
    const outcome = outboxId
      ? await recordBounce(deps, { outboxId, kind: reportKind(report), status: report.status ?? null, reason: report.reason ?? `${report.type} bounce`, finalRecipient: report.recipient ?? null }, "webhook")
      : { kind: "unknown-message" as const };
    if (outcome.kind === "recorded") result.recorded += 1;
    else if (outcome.kind === "duplicate") result.duplicates += 1;
    else result.unknown += 1;
  }
  return result;
}

/**
 * The provider's verdict, checked against its status when it gives one: a "hard" whose status blames
 * something other than the address (5.7.1 a policy or relaying denied, 5.1.8 FAMOS's own sender, a 4.x.x)
 * is soft, by the one rule a bounce report read by the listener follows (statusBlamesAddress): else a
 * provider that calls every 5xx hard marks every staff member undeliverable when FAMOS's domain is at fault.
 * A "soft" stays soft, and a verdict without a status stands.
 */
function reportKind(report: { type: "hard" | "soft"; status?: string | undefined }): "hard" | "soft" {
  if (report.type === "soft" || report.status === undefined) return report.type;
  return statusBlamesAddress(report.status, "report") ? "hard" : "soft";
}

async function outboxIdOf(deps: Deps, report: { messageId?: string | undefined; returnPath?: string | undefined }): Promise<string | null> {
  if (report.returnPath !== undefined) {
    return deps.config.bounce.domain ? outboxIdFromReturnPath(report.returnPath, deps.config.bounce.domain) : null;
  }
  // Message-IDs are <outbox id@mail domain> (src/mail/outbox.ts): the id is looked up, then the whole ID compared.
  const bare = report.messageId!.trim().replace(/^<|>$/g, "");
  const id = bare.slice(0, bare.lastIndexOf("@"));
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(id)) return null;
  const row = await deps.db.selectFrom("outbox").select("message_id").where("id", "=", id).executeTakeFirst();
  return row && row.message_id === `<${bare}>` ? id : null;
}
