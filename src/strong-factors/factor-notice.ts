import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { userTranslator } from "../i18n/translator.ts";
import { queueCappedNotice } from "../mail/capped-notice.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { factorChangedMail, type FactorChange } from "./messages.ts";

/** Factor-change notices one user is sent in an hour; the last of them says so (tellFactorChange). */
export const FACTOR_MAILS_PER_HOUR = 5;

/**
 * The one home that tells the account's OTP email of a change to the user's own second factors
 * (ASVS 2.5.5, 2.2.3): a passkey added or removed, the authenticator app set up or removed, a new set
 * of recovery codes. Queued in the caller's transaction, beside the change and its audit line, so a
 * change is never stored untold; the caller wakes the sender after its commit (deps.mailQueued). A
 * colleague at a shared counter PC who used a Profile left open (a code confirmed minutes ago asks for
 * no password) to add his phone's passkey or app, or to photograph new recovery codes, then signed in
 * as her with the password he saw her type, her mailbox never involved: only the audit trail knew.
 * At most FACTOR_MAILS_PER_HOUR an hour per user (a full session's requests are not counted by the
 * request limit, and new recovery codes in a loop would fill the owner's mailbox): in a rolling hour:
 * the notices queued in the hour before this change. The last says until when further changes go
 * unmailed (when the oldest of those leaves the hour, not an hour from now) and to check Profile, so
 * no change goes untold.
 * The cap is the one rule of capped notices (queueCappedNotice, mail/capped-notice.ts), counted in
 * the caller's transaction after it took the user's row (inLiveSession, checkSecondFactor).
 * Support's removal of every factor has its own mail (factorsRemovedMail). No address, no mail: an
 * account before its wave without an OTP email yet is told nothing (SECURITY.md 2.5.5).
 */
export async function tellFactorChange(tx: Kysely<Database>, deps: Deps, user: User, now: number, change: FactorChange): Promise<boolean> {
  return queueCappedNotice(tx, deps, user, now, {
    kind: "notice.factor-changed",
    perHour: FACTOR_MAILS_PER_HOUR,
    mail: (unmailedUntil) => factorChangedMail({ change, unmailedUntil, loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail }),
  });
}
