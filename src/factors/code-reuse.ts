import type { Kysely } from "kysely";
import type { AuditEntry } from "../audit/audit.ts";
import { lastCodeUsed } from "../otp/codes.ts";
import type { Flow } from "../otp/flows.ts";
import type { Database } from "../store/schema.ts";

/**
 * The emailed code's reuse in the trail (ASVS 2.8.5: an OTP's reuse is logged and refused), the one line
 * of it for every flow a code is typed in: sign-in, enrolment and the email change (checkCode, through
 * checkSecondFactor's `reused`) and the self-service reset (completePasswordReset). Its purpose is the
 * flow's, as code.failed's. A code used up and arriving again — the second of a double submit, the
 * losers of requests racing with it, a request that reads its flow after the code finished it — guesses
 * nothing and counts nothing. Nobody is mailed about it, unlike an app's or a recovery code's reuse
 * (tellCodeReused): the code went to that same mailbox, and a double click is by far its likeliest cause.
 */
export function codeReusedLine(flow: Pick<Flow, "kind">): Pick<AuditEntry, "event" | "detail"> {
  return { event: "code.reused", detail: { purpose: flow.kind } };
}

/**
 * A flow finished by its own code (its last code used, not voided): a code typed with the flow after that
 * counts nothing, since no code of the flow is live and there is nothing left to guess; it is the code's
 * replay (a double click that arrives once the first has finished, or the loser of two instances a moment
 * behind) only when it is the used code (explainMissingCode: "used", audited, else "spent", no line). A
 * flow ended otherwise (Cancel, a newer change, a support reset) is not one.
 */
export async function finishedByItsCode(db: Kysely<Database>, flow: Flow | undefined | null): Promise<boolean> {
  return !!flow && flow.finished_at !== null && (await lastCodeUsed(db, flow.id));
}
