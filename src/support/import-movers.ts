import type { Deps } from "../app/deps.ts";
import { enableUserIn } from "../account/disable.ts";
import { forgetMovedAnnouncement } from "../rollout/announce.ts";
import type { User } from "../users/users.ts";
import type { ImportedUser, ImportOptions, StoreReport } from "./import-users.ts";

/*
 * Movers between dealers (`famos user import --sync --update` run per dealership): an account one
 * partner's sync disabled, enabled again by a row that puts it at another partner. The rule
 * (enablesAgain) is the real run's and the dry run's (users/sync.ts); the enable runs after its row's
 * batch commits (enableMover), in the console's lock order.
 */

/**
 * The rule for a mover between dealers: an `--update` row enables again an account that an `import --sync`
 * disabled when it puts the account at a partner other than the one whose file left it out. A person's
 * disable (console, `famos user disable`) records no partner, so no import ever undoes it; the same
 * partner's file listing them again (an older file, run after the sync) is no move and enables nobody.
 * The one decision of storeBatch and of `--sync --dry-run` (importedAdminChanges, users/sync.ts).
 */
export function enablesAgain(user: User, row: Pick<ImportedUser, "partnerNumber">, options: Pick<ImportOptions, "update">): boolean {
  const partner = user.sync_disabled_partner ?? null;
  return options.update && user.disabled_at !== null && partner !== null && row.partnerNumber.trim() !== partner;
}

/**
 * The OTP email an enabled mover keeps when the row sets none (an empty email column, or
 * --email-as-contact): it may be the old dealer's mailbox, which the import's words say (import-sync.ts).
 */
export function keptOtpEmail(user: Pick<User, "otp_email">, row: Pick<ImportedUser, "email">, emailAsContact: boolean): string | null {
  return row.email === null || emailAsContact ? user.otp_email : null;
}

/** One enabled again: `sharedWith` as enableUser's; `keptOtpEmail`, keptOtpEmail's. */
export interface EnabledMover {
  user: User;
  sharedWith: number;
  keptOtpEmail: string | null;
}

/** A row that enables a mover again (enablesAgain), read in the batch: `from`, the partner they were at. */
export interface Mover {
  id: string;
  from: string;
  row: ImportedUser;
}

/**
 * Enables a mover again after its row's batch committed, in a transaction of its own: enableUser's, in
 * the console's one lock order (the administrators' rows and the target's in one statement,
 * actingNowTakingTurns). Inside the batch it took every administrator before the file's user rows, and
 * a console action on one of those users (target first by id, then an administrator) deadlocked with it.
 * enablesAgain is asked again of the row as it is now, and they must still be at the row's partner: a
 * person's disable or another import meanwhile wins. Enabled, the old partner's announcement is
 * forgotten like any mover's (updateUser's forgetMovedAnnouncement passed the disabled account by).
 */
export async function enableMover(deps: Deps, mover: Mover, options: ImportOptions, report: StoreReport): Promise<void> {
  const { row } = mover;
  const partner = row.partnerNumber.trim();
  const stillMoves = (user: User) => enablesAgain(user, row, options) && user.partner_number === partner;
  const outcome = await deps.db.transaction().execute(async (tx) => {
    const outcome = await enableUserIn(deps, tx, { user: null, audit: options.actor }, mover.id, { source: "import", line: row.line }, stillMoves);
    if (outcome.kind === "enabled") await forgetMovedAnnouncement(deps, tx, mover.id, mover.from, partner);
    return outcome;
  });
  if (outcome.kind === "enabled") report.enabled.push({ user: outcome.user, sharedWith: outcome.sharedWith, keptOtpEmail: keptOtpEmail(outcome.user, row, options.emailAsContact === true) });
}
