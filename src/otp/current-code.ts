import { sql, type Kysely } from "kysely";
import { preparedQuery } from "../store/prepared.ts";
import type { CodesTable, Database } from "../store/schema.ts";
import type { Flow } from "./flows.ts";

/**
 * What OTP capture reads of a flow's current code: the code, and where its mail is (codes.ts makes and
 * checks codes; this reads how their mail fares, from the outbox and its bounces).
 */

/** A flow's current code with its mail's delivery state (see currentCode). */
export type CurrentCode = Pick<CodesTable, "id" | "created_at" | "expires_at" | "tries" | "voided_at" | "void_reason" | "consumed_at" | "email"> & {
  mail_state: string | null;
  /**
   * The outbox still holds the mail for a try (queued or being sent): its state may change without the
   * user doing anything, so OTP capture keeps asking (code-entry.ts: deliveryPending).
   */
  mail_waiting: boolean;
};

/** The outbox columns of a code's mail that decide its delivery state (mailDeliveryState). */
export interface CodeMail {
  state: string | null;
  attempts: number | null;
  bounce: string | null;
  /** The kind of its last failed try (outbox.last_fault, smtp-replies.ts MailFault). */
  fault: string | null;
}

/**
 * The one rule for a code's mail's delivery state on the OTP capture screen: queued, sending, sent,
 * failed, "delayed" (tried, refused or unreachable, and waiting for its next try), "notRelayed" (waiting
 * or failed because the relay will not send to the address: its last try's fault "relaying"), or
 * "bounced" (taken by the SMTP server, then reported undeliverable; any other report of it makes it "sent"); and whether the outbox still holds
 * it for a try. A mail "notRelayed" that waits is tried again while its code works: the operator may fix
 * the relay meanwhile, and the next try is taken ("sent").
 */
export function mailDeliveryState(mail: CodeMail): Pick<CurrentCode, "mail_state" | "mail_waiting"> {
  // A hard bounce after the SMTP server took the mail: it will not arrive (issue 15).
  if (mail.bounce === "hard") return { mail_state: "bounced", mail_waiting: false };
  // Any other report of the message (a full mailbox, a delay) is proof that the relay took it, even when the
  // sender's own record of the send comes after the report (a busy database): it is sent, and the address's
  // warnings show, not "being sent".
  if (mail.bounce !== null) return { mail_state: "sent", mail_waiting: false };
  const waiting = mail.state === "queued" || mail.state === "sending";
  const delayed = mail.state === "queued" && (mail.attempts ?? 0) > 0;
  // The relay will not send to this address (relaying denied at RCPT TO): no new code gets there, nor a
  // later try unless the relay is fixed.
  if ((delayed || mail.state === "failed") && mail.fault === "relaying") return { mail_state: "notRelayed", mail_waiting: waiting };
  return { mail_state: delayed ? "delayed" : mail.state, mail_waiting: waiting };
}

/** The current code of a flow with its mail's delivery state (mailDeliveryState), for the OTP capture screen. */
export async function currentCode(db: Kysely<Database>, flowId: string): Promise<CurrentCode | undefined> {
  return (await flowWithCurrentCode(db, flowId))?.code;
}

/**
 * The flow and its current code (as currentCode) in one statement: OTP capture needs both (issue 17:
 * one statement instead of two on every code page). Undefined when there is no such flow.
 */
export async function flowWithCurrentCode(db: Kysely<Database>, flowId: string): Promise<{ flow: Flow; code: CurrentCode | undefined } | undefined> {
  const [row] = await flowWithCurrentCodeStatement(db, flowId);
  if (!row) return undefined;
  const { code_id, code_created_at, code_expires_at, code_tries, code_voided_at, code_void_reason, code_consumed_at, code_email, mail_state, mail_attempts, mail_bounce, mail_fault, ...flow } = row;
  if (code_id === null) return { flow, code: undefined };
  const code = {
    id: code_id,
    created_at: code_created_at!,
    expires_at: code_expires_at!,
    tries: code_tries!,
    voided_at: code_voided_at,
    void_reason: code_void_reason,
    consumed_at: code_consumed_at,
    email: code_email!,
  };
  return { flow, code: { ...code, ...mailDeliveryState({ state: mail_state, attempts: mail_attempts, bounce: mail_bounce, fault: mail_fault }) } };
}

/**
 * The current code is the flow's latest; of two made in the same millisecond (no resend wait), the
 * live one (the regeneration voided the other). The tie is settled in the join, not by a second sort
 * term, so the codes_flow index gives the order and the scan stops at the first row: no sorter.
 */
const flowWithCurrentCodeStatement = preparedQuery((db, flowId: string) =>
  db
    .selectFrom("flows")
    .leftJoin("codes", (join) =>
      join
        .onRef("codes.flow_id", "=", "flows.id")
        .on((eb) =>
          eb.or([
            eb("codes.voided_at", "is", null),
            eb.not(
              eb.exists(
                eb
                  .selectFrom("codes as live")
                  .select(sql<number>`1`.as("one"))
                  .whereRef("live.flow_id", "=", "codes.flow_id")
                  .whereRef("live.created_at", "=", "codes.created_at")
                  .where("live.voided_at", "is", null),
              ),
            ),
          ]),
        ),
    )
    .leftJoin("outbox", "outbox.id", "codes.outbox_id")
    .selectAll("flows")
    .select([
      "codes.id as code_id", "codes.created_at as code_created_at", "codes.expires_at as code_expires_at", "codes.tries as code_tries",
      "codes.voided_at as code_voided_at", "codes.void_reason as code_void_reason", "codes.consumed_at as code_consumed_at", "codes.email as code_email",
      "outbox.state as mail_state", "outbox.attempts as mail_attempts", "outbox.bounce_kind as mail_bounce", "outbox.last_fault as mail_fault",
    ])
    .where("flows.id", "=", flowId)
    .orderBy("codes.created_at", "desc")
    // Written into the statement's text on SQLite, as every prepared query's integer constants are
    // (store/prepared.ts: a bound LIMIT is prepared again at every run).
    .limit(1),
);
