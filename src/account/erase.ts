import { sql } from "kysely";
import type { Deps } from "../app/deps.ts";
import { keyForms, recordAudit } from "../audit/audit.ts";
import { pseudonymiseAudit } from "../audit/rewrite.ts";
import { randomId } from "../platform/random.ts";
import { unlockAccountCounters } from "../regulation/locks.ts";
import { actingNowTakingTurns, refusal, type Acting, type Refusal } from "../support/acting.ts";
import { lastAdminRefusal, type LastAdmin } from "../support/roles.ts";
import { findUserById } from "../users/users.ts";
import { endUserAccess } from "./access.ts";
import { forgetAddresses, personalStrings } from "./erase-traces.ts";
import { removeAllFactors } from "../strong-factors/factors.ts";

export type EraseOutcome = { kind: "erased"; loginId: string; pseudonym: string; events: number } | { kind: "not-found" } | LastAdmin | Refusal;

/**
 * `famos user delete LOGIN --erase` (issue 11; GDPR art. 17): the account, its sessions, flows, codes,
 * mail and failure counts go; its events stay in the audit trail under a pseudonym ("erased-…") with
 * their names and times, without addresses or user agents — the one sanctioned change to the trail,
 * through the migration-defined function (src/audit/rewrite.ts). The erasure is audited itself, under
 * the pseudonym, so the trail says what happened without saying to whom.
 */
export async function eraseUser(deps: Deps, by: Acting, userId: string): Promise<EraseOutcome> {
  const now = deps.clock.now();
  const pseudonym = `erased-${randomId(deps.random, 6)}`;
  return deps.db.transaction().execute(async (tx) => {
    // The account's row first (on PostgreSQL), with the acting person's and the administrators'
    // (support/acting.ts says why): a second erasure at once then finds no account, and the order of
    // locks is that of every other writer of a user's codes and sessions (store/take-turns.ts).
    const actor = await actingNowTakingTurns(tx, deps.dialect, by, userId);
    const target = await findUserById(tx, userId);
    if (!target) return { kind: "not-found" as const };
    const refused = refusal(actor, target, "disable");
    if (refused) return refused;
    // The last enabled administrator stays (support/roles.ts).
    const last = await lastAdminRefusal(tx, target);
    if (last) return last;
    await endUserAccess(tx, target.id, now, "erased");
    // Read before the rows that hold them go: every address she had, not only the one of the day.
    const strings = await personalStrings(tx, target);
    await tx.deleteFrom("outbox").where("user_id", "=", target.id).execute();
    // Its counters and locks, its devices' and its reset's, as support's Unlock clears them.
    await unlockAccountCounters({ db: tx, keys: deps.keys }, target.login_key);
    await tx.deleteFrom("devices").where("login_key", "=", target.login_key).execute();
    await forgetAddresses(tx, target.id, strings);
    const events = await pseudonymiseAudit(tx, deps.dialect, target.login_id, pseudonym, strings);
    // Her notices stay on the banner and in the console, no longer under her login ID.
    await tx.updateTable("notices").set({ created_by: pseudonym }).where(sql<string>`lower(trim(created_by))`, "in", keyForms(tx, target.login_key)).execute();
    // Passkeys, the authenticator app and recovery codes (issue 13) have no foreign key: removed here.
    await removeAllFactors(tx, target.id);
    // Sessions, flows and codes go with the account (ON DELETE CASCADE).
    await tx.deleteFrom("users").where("id", "=", target.id).execute();
    await recordAudit(tx, now, { ...by.audit, event: "user.erased", subject: pseudonym, detail: { events } });
    return { kind: "erased" as const, loginId: target.login_id, pseudonym, events };
  });
}
