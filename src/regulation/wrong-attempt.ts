import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { queueLockMail } from "./lock-notice.ts";
import { attemptFailed, type FailureResult, type Reservation } from "./throttle.ts";

/**
 * A wrong password or code, once the verification has said so: the attempt stays counted (a lock its
 * count started is audited by attemptFailed), the attempt itself is audited, and the account's holder
 * is told of a lock it started, with the counter's own kind ("password", "code" or the reset's). The
 * one home of that sequence for the password step, every second factor and the self-service reset:
 * copies of it drift, and the reset's copy once told the wrong kind.
 */
export async function countWrongAttempt(
  deps: Deps,
  reservation: Extract<Reservation, { ok: true }>,
  user: User | undefined,
  entry: AuditEntry,
  now: number,
  /** The login ID as a lock it starts is audited: the attempt's subject, as a login key or a digest (src/users/login-digest.ts). */
  lockSubject: string | null = entry.subject,
): Promise<FailureResult> {
  const write = async (db: Kysely<Database>) => {
    const result = await attemptFailed(db, reservation, now, lockSubject);
    await recordAudit(db, now, entry);
    return { result, mailed: await queueLockMail(deps, db, user, reservation.kind, result, now, reservation.scope) };
  };
  // Issue 17: what the verdict writes is one commit. The reservation was committed before the
  // verification and stays whatever happens here; the address's count, the audit rows of the locks it
  // and the reservation started, the attempt's audit and the holder's mail commit together or not at
  // all (a process dying between them left a lock counted without its audit or its mail). A lone audit
  // row (no address counted, no lock started) needs no BEGIN and COMMIT of its own.
  const writes = reservation.address !== null || reservation.primary.startedLock || reservation.primary.startedHardLock;
  const { result, mailed } = writes ? await deps.db.transaction().execute(write).catch((error: unknown) => countedAlone(deps, reservation, now, lockSubject, error)) : await write(deps.db);
  if (mailed) deps.mailQueued();
  return result;
}

/**
 * The transaction failed and rolled the address's count back with the rest: the count is written again
 * on its own (its lock audits with it, as attemptFailed writes them), then the error goes on. Without
 * this, any write after the count failing (an audit row, the mail, a statement cut by the database's
 * bound) was a wrong password the address never counted: a free guess for a sprayer (NIST SP 800-63B
 * 5.2.2). Fail closed: should this count fail too, the first error is the one reported.
 */
async function countedAlone(deps: Deps, reservation: Extract<Reservation, { ok: true }>, now: number, lockSubject: string | null, error: unknown): Promise<never> {
  await attemptFailed(deps.db, reservation, now, lockSubject).catch(() => undefined);
  throw error;
}
