import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import type { User } from "../users/users.ts";
import { tellLockStarted } from "./lock-notice.ts";
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
  const result = await attemptFailed(deps.db, reservation, now, lockSubject);
  await recordAudit(deps.db, now, entry);
  await tellLockStarted(deps, user, reservation.kind, result, now, reservation.scope);
  return result;
}
