import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from "kysely";
import { addressKey } from "../bounce/addresses.ts";
import { randomId, type Random } from "../platform/random.ts";
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
 * Which of a user's open flows a rule reaches: all of them but `except` (endUserAccess: "cut this
 * account off"), or only those of `kinds` sent to another address than `otherAddressThan` (a newer
 * address superseding those entered before it: endSupersededFlows), compared without regard to case
 * as addresses are everywhere (addressKey): the same mailbox in other case is no other address.
 */
export interface FlowScope {
  except?: string | null;
  kinds?: readonly Flow["kind"][];
  otherAddressThan?: string;
}

/** The ids of a user's open flows in `only` (voidUserCodes narrows its codes to them). */
export function openFlowIds(db: Kysely<Database>, userId: string, only: FlowScope) {
  return db.selectFrom("flows").select("id").where(openFlowsOf(userId, only));
}

/**
 * Finishes a user's open flows in `only` (FlowScope). The caller voids their codes first (voidUserCodes
 * with the same scope); a finished flow takes no new one (issueCode), so Regenerate OTP cannot revive it.
 */
export async function finishUserFlows(db: Kysely<Database>, userId: string, now: number, only: FlowScope = {}): Promise<void> {
  await db.updateTable("flows").set({ finished_at: now }).where(openFlowsOf(userId, only)).execute();
}

/** The newest of a user's open flows in `only` (FlowScope), if any. */
export async function newestOpenFlow(db: Kysely<Database>, userId: string, only: FlowScope): Promise<Flow | undefined> {
  return db.selectFrom("flows").selectAll().where(openFlowsOf(userId, only)).orderBy("created_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
}

/** A user's open flows in `only`, as a condition on the flows table. */
function openFlowsOf(userId: string, only: FlowScope) {
  return (eb: ExpressionBuilder<Database, "flows">) => {
    const conditions: Expression<SqlBool>[] = [eb("user_id", "=", userId), eb("finished_at", "is", null)];
    if (only.except != null) conditions.push(eb("id", "!=", only.except));
    if (only.kinds) conditions.push(eb("kind", "in", only.kinds));
    // lower() folds ASCII alone on SQLite, enough here: an address entered passed the WHATWG rule (ASCII only).
    if (only.otherAddressThan !== undefined) conditions.push(eb(sql<string>`lower(email)`, "!=", addressKey(only.otherAddressThan)));
    return eb.and(conditions);
  };
}
