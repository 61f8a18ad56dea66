import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";
import { voidUserCodes } from "./codes.ts";
import { finishUserFlows, type FlowScope } from "./flows.ts";

/**
 * Only the newest address entered can be confirmed (SPEC item 2; item 6's Profile change alike): a
 * new address — an enrolment at "User profile" (enrolEmail) or a change on the Profile tab
 * (startEmailChange, which a password-only session of an account without an OTP email reaches too) —
 * ends the user's open enrolments and email changes to other addresses, with their codes, so neither a
 * code mailed there nor Regenerate OTP in the tab or browser that entered one can make that address
 * the OTP email (red team 2026-12-07). Both kinds, whichever starts it: an enrolment open in one browser
 * and a Profile change in another are two addresses for the same thing. The one home of that rule, in
 * the caller's transaction with the user's row taken. Nothing else is touched: a sign-in code another
 * browser of the same person waits for stays live, and a re-entry of the same address (a double click,
 * another browser; in other case too, the same mailbox: addressKey) keeps its flow and its code.
 */
export async function endSupersededFlows(db: Kysely<Database>, userId: string, address: string, now: number): Promise<void> {
  const scope: FlowScope = { kinds: ["enrol", "email-change"], otherAddressThan: address };
  await voidUserCodes(db, userId, "superseded", now, scope);
  await finishUserFlows(db, userId, now, scope);
}
