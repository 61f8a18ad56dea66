import type { OutboxMessage } from "../../src/mail/outbox.ts";

let counter = 0;

/** An outbox row as a sender hands it to the transport (first attempt, claimed), with a code in its bodies; each call a new id. */
export function outboxMessage(fields: Partial<OutboxMessage> = {}): OutboxMessage {
  counter += 1;
  const id = `outbox${String(counter).padStart(4, "0")}`;
  return {
    id,
    user_id: "u-1",
    kind: "code.signin",
    recipient: "dealer@dealer.test",
    subject: "Your FAMOS one time passcode",
    text_body: "Your code is 482913.\nIt expires in 15 minutes.",
    html_body: "<p>Your code is <b>482913</b>.</p>",
    message_id: `<${id}@famos.test>`,
    state: "sending",
    attempts: 1,
    next_attempt_at: 0,
    lease_until: null,
    last_error: null,
    last_fault: null,
    created_at: 0,
    sent_at: null,
    bounced_at: null,
    bounce_kind: null,
    bounce_reason: null,
    ...fields,
  };
}
