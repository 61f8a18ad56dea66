import type { Deps } from "../app/deps.ts";
import { endUserAccess } from "../account/access.ts";
import { recordAudit } from "../audit/audit.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { markStrongFactors, removeAllFactors, type RemovedFactors } from "../strong-factors/factors.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { factorsRemovedMail } from "../strong-factors/messages.ts";
import { userTranslator } from "../i18n/translator.ts";
import { findUserById, type User } from "../users/users.ts";
import { actingNow, refusal, type Acting, type Refusal } from "./acting.ts";
import { checkOptionalTicket } from "./ticket.ts";

export type RemoveFactorsOutcome =
  | { kind: "removed"; removed: RemovedFactors; sessionsEnded: number }
  | { kind: "not-found" }
  | { kind: "ticket"; message: string }
  | Refusal;

/**
 * "Remove second factors" (console, `famos user factors LOGIN --remove`; issue 13): for a user who
 * lost the phone with the app or the passkeys. Support acts on others' accounts only, and never on an
 * administrator's; an administrator may act on anyone's but their own (src/support/acting.ts). The
 * user's sessions end and their codes stop working, the OTP email is told, all in one transaction
 * (when there was something to remove). The ticket, as typed, is optional: blank is none, anything
 * else obeys the ticket rule (src/support/ticket.ts) or nothing is done.
 */
export async function removeSecondFactors(deps: Deps, by: Acting, userId: string, typedTicket: string | null | undefined): Promise<RemoveFactorsOutcome> {
  const now = deps.clock.now();
  const outcome = await deps.db.transaction().execute(async (tx) => {
    const target: User | undefined = await findUserById(tx, userId);
    if (!target) return { kind: "not-found" as const };
    // The acting person as they are now (actingNow): the console's step-up checked a password since the request read them.
    const refused = refusal(await actingNow(tx, by), target, "factors");
    if (refused) return refused;
    const checked = checkOptionalTicket(typedTicket);
    if (!checked.ok) return { kind: "ticket" as const, message: checked.message };
    const { ticket } = checked;
    // The user's row first (the one order of locks, store/take-turns.ts), then the factors, then its mark.
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: target.id });
    const removed = await removeAllFactors(tx, target.id);
    await markStrongFactors(tx, target.id, now);
    // Nothing to remove (a login ID typed by mistake, a second run): the user is neither signed out
    // nor mailed that factors were removed, which would be untrue. The attempt is still audited.
    const nothing = removed.passkeys === 0 && !removed.app && removed.recoveryCodes === 0;
    const sessionsEnded = nothing ? 0 : (await endUserAccess(tx, target.id, now, "factors-removed")).sessions;
    if (target.otp_email && !nothing) {
      const mail = factorsRemovedMail({ loginId: target.login_id, at: now, t: userTranslator(deps.config, target), supportEmail: deps.config.supportEmail });
      await enqueueMail(tx, now, deps.random, deps.mailDomain, { userId: target.id, kind: "notice.factors-removed", recipient: target.otp_email, ...mail });
    }
    await recordAudit(tx, now, { ...by.audit, event: "factors.removed", subject: target.login_id, detail: { ...removed, sessionsEnded, ...(ticket ? { ticket } : {}) } });
    return { kind: "removed" as const, removed, sessionsEnded };
  });
  if (outcome.kind === "removed") {
    deps.mailQueued();
    deps.metrics.strongFactorChanges.inc({ factor: "all", change: "removed" });
  }
  return outcome;
}
