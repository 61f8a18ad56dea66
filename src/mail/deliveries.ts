import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";
import type { OutboxMessage } from "./outbox.ts";

export type MailState = OutboxMessage["state"];

/** One message's delivery as support sees it: no bodies (they hold codes), just what happened. */
export interface MailDelivery {
  id: string;
  kind: string;
  recipient: string;
  state: MailState;
  attempts: number;
  createdAt: number;
  sentAt: number | null;
  nextAttemptAt: number;
  lastError: string | null;
  messageId: string;
}

/** A user's most recent messages with their state (queued, sending, sent, failed), newest first. */
export async function userMailDeliveries(db: Kysely<Database>, userId: string, limit = 20): Promise<MailDelivery[]> {
  const rows = await db
    .selectFrom("outbox")
    .select(["id", "kind", "recipient", "state", "attempts", "created_at", "sent_at", "next_attempt_at", "last_error", "message_id"])
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    recipient: r.recipient,
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    messageId: r.message_id,
  }));
}
