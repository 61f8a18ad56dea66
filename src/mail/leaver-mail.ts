import type { Expression, ExpressionBuilder, Kysely, SqlBool } from "kysely";
import type { Database } from "../store/schema.ts";
import { codeOf, SCRUBBED } from "./outbox-rows.ts";

/** The leaver rule: a disabled account's mail is not sent (disableUser, each claim, the sender before SMTP: outbox.ts withdrawWaitingMail). */

export const WITHDRAWN_LEAVER = "not sent: the account was disabled before it went";

/**
 * A leaver's mail still waiting when the account is disabled (disableUser): announcements, notices (a
 * lock, a password changed) are not sent to someone who has left, failed as WITHDRAWN_LEAVER, bodies
 * emptied. A message a sender holds right now (`sending`, its lease live) is already with the relay or
 * about to be; if that try fails, its retry comes due and the claim withdraws it then (claimDueMail).
 * No mail is meant for a leaver: disabling sends none. The number withdrawn.
 */
export async function withdrawLeaverMail(db: Kysely<Database>, userId: string, now: number): Promise<number> {
  return withdrawLeavers(db, (eb) =>
    eb.and([eb("outbox.user_id", "=", userId), eb.or([eb("state", "=", "queued"), eb.and([eb("state", "=", "sending"), eb("lease_until", "<", now)])])]),
  );
}

/**
 * Fails as WITHDRAWN_LEAVER, bodies emptied, the messages `which` picks that are a leaver's (leaverMail).
 * The disable calls it for the account's waiting mail; each claim runs the same statement, compiled
 * once, for the due mail of any account (outbox.ts, withdrawDueLeavers); the sender asks the same rule
 * (leaverMail) of a claimed message that waited for a connection (outbox.ts, withdrawWaitingMail).
 */
async function withdrawLeavers(db: Kysely<Database>, which: (eb: ExpressionBuilder<Database, "outbox">) => Expression<SqlBool>): Promise<number> {
  const result = await leaverWithdrawal(db, which, false).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The leavers' withdrawal as a statement; the claim's is compiled once and locks as the claim does (postgres). */
export const leaverWithdrawal = (db: Kysely<Database>, which: (eb: ExpressionBuilder<Database, "outbox">) => Expression<SqlBool>, postgres: boolean) => {
  let leavers = db.selectFrom("outbox").select("outbox.id").where(which).where(leaverMail);
  if (postgres) leavers = leavers.forUpdate().skipLocked();
  return db
    .updateTable("outbox")
    .set({ state: "failed", lease_until: null, last_error: WITHDRAWN_LEAVER, last_fault: null, ...SCRUBBED })
    .where("id", "in", leavers);
};

/**
 * The one rule for "a leaver gets no more mail": the message's account is disabled and it carries no
 * code. Code mail is left to its own rule: the disable voids the codes, and carriesDeadCode withdraws
 * their mail as WITHDRAWN, which the hourly cap reads (neverSent).
 */
export const leaverMail = (eb: ExpressionBuilder<Database, "outbox">) =>
  eb.and([
    eb.exists(eb.selectFrom("users").select("users.id").whereRef("users.id", "=", "outbox.user_id").where("users.disabled_at", "is not", null)),
    eb.not(eb.exists(codeOf(eb).select("codes.id"))),
  ]);
