import type { ExpressionBuilder } from "kysely";
import type { Database } from "../store/schema.ts";

/** What outbox.ts and leaver-mail.ts both say of a message's row: its code, and its bodies emptied. */

/**
 * A code mail's body holds the code itself, which the codes table keeps only as a keyed hash. Once
 * the message can no longer be sent (sent, or failed for good) its bodies are emptied, so the
 * database, its replicas and its backups hold no usable code (SPEC "Codes"; ASVS 2.8.x).
 */
export const SCRUBBED = { text_body: "", html_body: "" } as const;

/**
 * The code a code mail carries (none for other mail). The code and its mail were written together, so
 * (user_id, created_at) finds the code by its index.
 */
export const codeOf = (eb: ExpressionBuilder<Database, "outbox">) =>
  eb
    .selectFrom("codes")
    .whereRef("codes.user_id", "=", "outbox.user_id")
    .whereRef("codes.created_at", "=", "outbox.created_at")
    .whereRef("codes.outbox_id", "=", "outbox.id");
