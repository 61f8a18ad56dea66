import type { Kysely } from "kysely";
import { randomId, type Random } from "../platform/random.ts";
import { voidUserCodes } from "./codes.ts";
import { preparedInsert, preparedQuery } from "../store/prepared.ts";
import type { Database, FlowsTable } from "../store/schema.ts";

export type Flow = FlowsTable;

/** A sign-in attempt, enrolment or email change: every code belongs to exactly one. */
const insertFlow = preparedInsert("flows", ["id", "user_id", "kind", "email", "created_at", "codes_sent", "last_code_at", "finished_at", "return_to"]);

export async function createFlow(
  db: Kysely<Database>,
  random: Random,
  input: { userId: string; kind: Flow["kind"]; email: string; now: number; returnTo?: string | null; id?: string },
): Promise<Flow> {
  const flow: Flow = {
    // Chosen by the caller when it has named the flow already (password-reset/reset.ts: the answer names it first).
    id: input.id ?? randomId(random),
    user_id: input.userId,
    kind: input.kind,
    email: input.email,
    created_at: input.now,
    codes_sent: 0,
    last_code_at: null,
    finished_at: null,
    return_to: input.returnTo ?? null,
  };
  await insertFlow(db, flow);
  return flow;
}

const flowById = preparedQuery((db, id: string) => db.selectFrom("flows").selectAll().where("id", "=", id));

export async function findFlow(db: Kysely<Database>, id: string): Promise<Flow | undefined> {
  const [flow] = await flowById(db, id);
  return flow;
}

/**
 * A flow Regenerate OTP can still send a code for: there (not removed), not finished, with an address
 * (the strong step of a user who has none has nowhere to send one). The one rule for regenerateCode's
 * "no-flow" and for OTP capture's words when it would not help (web/code-messages.ts regenerateRefusal).
 */
export function flowTakesCodes(flow: Pick<Flow, "finished_at" | "email"> | null | undefined): boolean {
  return flow != null && flow.finished_at === null && flow.email !== "";
}

/**
 * A step's sign-in flow (null: none, or gone): as this request read it with the session (`loaded`; a
 * route's `flow: true`, web/auth.ts), so it is not read again (issue 17), else read now. Either way
 * before anything the step reserves or counts.
 */
export async function sessionFlow(db: Kysely<Database>, flowId: string | null, loaded?: Flow | null): Promise<Flow | null> {
  if (loaded !== undefined) return loaded;
  return flowId === null ? null : ((await findFlow(db, flowId)) ?? null);
}

const finishFlowStatement = preparedQuery((db, id: string, now: number) =>
  db.updateTable("flows").set({ finished_at: now }).where("id", "=", id).where("finished_at", "is", null),
);

export async function finishFlow(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await finishFlowStatement(db, id, now);
}

/**
 * Finishes a user's open flows: all of them but `except` (endUserAccess: "cut this account off"), or
 * only those of `kinds` sent to another address than `otherAddressThan` (an enrolment superseding the
 * addresses entered before it: a double click re-entering the same one keeps its flow). The caller
 * voids their codes; a finished flow takes no new one (issueCode), so Regenerate OTP cannot revive it.
 */
export async function finishUserFlows(
  db: Kysely<Database>,
  userId: string,
  now: number,
  only: { except?: string | null; kinds?: readonly Flow["kind"][]; otherAddressThan?: string } = {},
): Promise<void> {
  const except = only.except ?? null;
  const kinds = only.kinds ?? null;
  const address = only.otherAddressThan ?? null;
  await db
    .updateTable("flows")
    .set({ finished_at: now })
    .where("user_id", "=", userId)
    .where("finished_at", "is", null)
    .$if(except !== null, (qb) => qb.where("id", "!=", except!))
    .$if(kinds !== null, (qb) => qb.where("kind", "in", kinds!))
    .$if(address !== null, (qb) => qb.where("email", "!=", address!))
    .execute();
}

/**
 * An account without an OTP email entering one — at "User profile" (enrolEmail) or on the Profile tab
 * (startEmailChange, reached by a password-only session): only the newest address entered can be
 * confirmed. The user's codes stop working, and the enrolments and email changes sent to another
 * address end, so Regenerate OTP in another browser mails the replaced address nothing more; a flow
 * for this very address (a double click) stays open. Red team 2026-12-07.
 */
export async function supersedeAddressFlows(db: Kysely<Database>, userId: string, address: string, now: number): Promise<void> {
  await voidUserCodes(db, userId, "superseded", now);
  await finishUserFlows(db, userId, now, { kinds: ["enrol", "email-change"], otherAddressThan: address });
}
