import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { queryAudit, recordAudit } from "../audit/audit.ts";
import type { Database } from "../store/schema.ts";
import { actingNowTakingTurns, refusal, type Acting, type Refusal } from "../support/acting.ts";
import { lastAdminRefusal, type LastAdmin } from "../support/roles.ts";
import { otherEnabledHolders } from "../users/shared-address.ts";
import { findUserById, type User } from "../users/users.ts";
import { withdrawLeaverMail } from "../mail/leaver-mail.ts";
import { endUserAccess } from "./access.ts";

export type DisableOutcome =
  | { kind: "disabled"; user: User; sessionsEnded: number; codesVoided: number }
  /** sharedWith: other enabled login IDs whose OTP email is this account's too, now that it is enabled. */
  | { kind: "enabled"; user: User; sharedWith: number }
  /** kept: a person disabling one an import --sync had disabled: the disable is now theirs, no import undoes it. */
  | { kind: "unchanged"; user: User; kept?: true }
  | { kind: "not-found" }
  | LastAdmin
  | Refusal;

/**
 * A leaver (issue 11): the account stays, with its history, but cannot sign in — the same answer as a
 * wrong password — and every session and pending code ends at once, so forward-auth and the proxy
 * refuse the next request; mail still queued for them is withdrawn (withdrawLeaverMail), and a live temporary
 * password is spent (enabled again, they need a new one from support). One conditional update decides, so two clicks disable once.
 */
export async function disableUser(deps: Deps, by: Acting, userId: string, how: { bySync?: boolean } = {}): Promise<DisableOutcome> {
  return deps.db.transaction().execute((tx) => setDisabled(deps, tx, by, userId, { disable: true, bySync: how.bySync === true }));
}

/**
 * Disabled by an `import --sync` (sync_disabled_partner), and still its disable: what "Keep disabled" is
 * for, the one rule of the console's button (web/pages/support-lifecycle-pages.ts) and of keepDisabled.
 */
export function syncDisabled<T extends Pick<User, "disabled_at" | "sync_disabled_partner">>(user: T): user is T & { sync_disabled_partner: string } {
  return user.disabled_at !== null && user.sync_disabled_partner != null;
}

/**
 * "Keep disabled" on the console: an account an `import --sync` disabled (sync_disabled_partner) made a
 * person's disable, which no import undoes (support/import-movers.ts, enablesAgain). setDisabled's rule,
 * the one `famos user disable` meets on such an account (its `kept` outcome, audited user.disabled
 * {kept: true}); only for an account a sync disabled, asked of it as read with its row taken: one enabled
 * or kept meanwhile is left as it is ("unchanged"), never disabled by this button without the Disable question.
 */
export async function keepDisabled(deps: Deps, by: Acting, userId: string): Promise<DisableOutcome> {
  return deps.db.transaction().execute((tx) => setDisabled(deps, tx, by, userId, { disable: true, bySync: false, only: syncDisabled }));
}

/**
 * Lets a disabled account sign in again (with its password as it was). Its OTP email may have been
 * taken by a successor meanwhile, with no warning (a leaver's address is nobody's shared mailbox,
 * src/users/shared-address.ts): the outcome and the audit say when the address is shared again, for the
 * console and the command line to tell, and Needs attention lists it.
 */
export async function enableUser(deps: Deps, by: Acting, userId: string): Promise<DisableOutcome> {
  return deps.db.transaction().execute((tx) => enableUserIn(deps, tx, by, userId));
}

/**
 * enableUser inside the caller's transaction, which begins with it: `famos user import --update` enabling
 * a mover that an earlier `--sync` disabled (support/import-movers.ts enableMover), `detail` (its source
 * and line) in the audit event; `only`: asked of the account as read with its row taken, unchanged when false.
 */
export async function enableUserIn(
  deps: Deps,
  tx: Kysely<Database>,
  by: Acting,
  userId: string,
  detail: Record<string, string | number> = {},
  only?: (target: User) => boolean,
): Promise<DisableOutcome> {
  return setDisabled(deps, tx, by, userId, { disable: false, bySync: false, detail, only });
}

/**
 * `bySync`: `famos user import --sync` disables a user its file left out, and records the partner whose
 * file it was (sync_disabled_partner, migration 028); a person's disable and every enable clear it, so an
 * import only ever enables again what an import disabled (support/import-movers.ts, enablesAgain).
 */
async function setDisabled(
  deps: Deps,
  tx: Kysely<Database>,
  by: Acting,
  userId: string,
  how: { disable: boolean; bySync: boolean; detail?: Record<string, string | number>; only?: (target: User) => boolean },
): Promise<DisableOutcome> {
  const { disable } = how;
  const now = deps.clock.now();
  // The acting person as they are now, the rows taken first (support/acting.ts says why).
  const actor = await actingNowTakingTurns(tx, deps.dialect, by, userId);
  const target = await findUserById(tx, userId);
  if (!target) return { kind: "not-found" as const };
  const refused = refusal(actor, target, "disable");
  if (refused) return refused;
  if (how.only !== undefined && !how.only(target)) return { kind: "unchanged" as const, user: target };
  // The last enabled administrator stays (support/roles.ts); enabling one is never refused.
  const last = disable ? await lastAdminRefusal(tx, target) : null;
  if (last) return last;
  const changed = await tx
    .updateTable("users")
    .set({ disabled_at: disable ? now : null, sync_disabled_partner: disable && how.bySync ? target.partner_number : null, updated_at: now })
    .where("id", "=", target.id)
    .where("disabled_at", disable ? "is" : "is not", null)
    .executeTakeFirst();
  if (Number(changed.numUpdatedRows) === 0) {
    // A person disabling one a sync disabled already: theirs now, which no import undoes.
    if (disable && !how.bySync && target.sync_disabled_partner != null) {
      await tx.updateTable("users").set({ sync_disabled_partner: null, updated_at: now }).where("id", "=", target.id).where("disabled_at", "is not", null).execute();
      // Audited: it changes what a later import may do (kept: no counts, nothing else ended).
      await recordAudit(tx, now, { ...by.audit, event: "user.disabled", subject: target.login_id, detail: { kept: true } });
      return { kind: "unchanged" as const, user: { ...target, sync_disabled_partner: null }, kept: true as const };
    }
    return { kind: "unchanged" as const, user: target };
  }
  if (!disable) {
    const sharedWith = target.otp_email === null ? 0 : await otherEnabledHolders({ db: tx }, target.otp_email, target.id);
    const detail = { ...how.detail, ...(sharedWith > 0 ? { sharedMailbox: true } : {}) };
    await recordAudit(tx, now, { ...by.audit, event: "user.enabled", subject: target.login_id, ...(Object.keys(detail).length > 0 ? { detail } : {}) });
    return { kind: "enabled" as const, user: { ...target, disabled_at: null, sync_disabled_partner: null }, sharedWith };
  }
  const ended = await endUserAccess(tx, target.id, now, "disabled");
  // A temporary password still live is spent as used (0, signInBarred): one read out before the person
  // left does not sign in again after `famos user enable`; one run out or used already stays as it is.
  await tx.updateTable("users").set({ password_temporary_until: 0 }).where("id", "=", target.id).where("password_temporary_until", ">", now).execute();
  // Mail still waiting for a leaver (an announcement, a notice) is not sent after they have left.
  await withdrawLeaverMail(tx, target.id, now);
  const counts = { sessionsEnded: ended.sessions, codesVoided: ended.codes };
  await recordAudit(tx, now, { ...by.audit, event: "user.disabled", subject: target.login_id, detail: { ...counts, ...(how.bySync ? { source: "sync" } : {}) } });
  return { kind: "disabled" as const, user: { ...target, disabled_at: now }, ...counts };
}

/**
 * What the disable in force ended, as its audit event recorded it (`user.disabled`, written in the
 * transaction that set disabled_at, so stamped with disabled_at itself): undefined when the user is not
 * disabled, null when the event holds no counts (a disable before they were recorded), `kept` when a
 * person has since kept disabled one an import --sync disabled (setDisabled's `kept`: no counts, it ended
 * nothing). The console's page after a disable reads them here, never from its address, which anyone can write.
 * The keep is found by the order of writing (the event's id), not by its time: a host clock set back
 * between the sync and the keep stamps the keep before the sync's disabled_at, and an earlier spell's keep,
 * written before this disable's event, is never this one's, whatever its time says.
 */
export async function disableInForce(
  db: Kysely<Database>,
  user: Pick<User, "login_id" | "disabled_at" | "sync_disabled_partner">,
): Promise<{ sessionsEnded: number; codesVoided: number } | { kept: true } | null | undefined> {
  if (user.disabled_at === null) return undefined;
  const at = Number(user.disabled_at);
  // Through queryAudit, the one reader of a person's events (audit_subject_key_time, migration 016).
  const [event] = await queryAudit(db, { subject: user.login_id, event: "user.disabled", since: at, until: at + 1, limit: 1 });
  if (!event) return null;
  // A keep in the same millisecond as the disable, written after it.
  if (event.detail.kept === true) return { kept: true };
  // A sync's disable, still in force, whose mark is gone: only a person's keep clears it then (setDisabled).
  // Its event, written after the disable's, says so; a sync's disable from before the mark (migration 028) has none.
  if (event.detail.source === "sync" && user.sync_disabled_partner == null) {
    const [later] = await queryAudit(db, { subject: user.login_id, event: "user.disabled", afterId: event.id, limit: 1 });
    if (later?.detail.kept === true) return { kept: true };
  }
  const { sessionsEnded, codesVoided } = event.detail;
  return typeof sessionsEnded === "number" && typeof codesVoided === "number" ? { sessionsEnded, codesVoided } : null;
}

/**
 * Whether "Keep disabled" met an account an `import --sync` disabled that no longer is (enabled since, or kept
 * by a person: setDisabled's `kept`): its latest disable that was no keep is a sync's, and the sync's mark is
 * gone. What the console's `?done=keep-unchanged` says only then: an account no sync ever disabled, shown
 * that words by a link written by anyone, was never "no longer one an import --sync disabled".
 */
export async function wasSyncDisabled(db: Kysely<Database>, user: Pick<User, "login_id" | "disabled_at" | "sync_disabled_partner">): Promise<boolean> {
  if (syncDisabled(user)) return false;
  // Through queryAudit, the one reader of a person's events, newest first (keeps and disables alike).
  const events = await queryAudit(db, { subject: user.login_id, event: "user.disabled", limit: 20 });
  const disable = events.find((event) => event.detail.kept !== true);
  return disable?.detail.source === "sync";
}
