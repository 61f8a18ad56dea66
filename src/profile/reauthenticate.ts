import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { hashPassword, verifyPassword } from "../password/hash.ts";
import { tellLockStarted } from "../regulation/lock-notice.ts";
import { lockState, recordFailure, recordSuccess } from "../regulation/throttle.ts";
import type { Session } from "../session/sessions.ts";
import type { RequestContext } from "../signin/context.ts";
import { loginKey, setPasswordHash, type User } from "../users/users.ts";

/**
 * How recent a confirmed code must be for a sensitive change without the password again (SPEC item
 * 6: "a code confirmed in the last 15 minutes"; ASVS 3.7.1 asks for re-authentication before
 * account modifications).
 */
export const RECENT_CODE_MS = 15 * 60_000;

export function codeConfirmedRecently(session: Session, now: number): boolean {
  return session.verified_at !== null && now - session.verified_at < RECENT_CODE_MS;
}

export type PasswordProof =
  | { kind: "ok" }
  | { kind: "wrong" }
  /** Too many wrong passwords for this login ID: refused until `until` (null: until support unlocks). */
  | { kind: "locked"; until: number | null };

/**
 * The password typed again on Profile. It is guessing like any other, so a wrong one counts toward
 * the same lock as at sign-in (NIST SP 800-63B 5.2.2) and a lock refuses it without checking.
 */
export async function provePassword(deps: Deps, user: User, password: string, ctx: RequestContext, now: number, purpose: string): Promise<PasswordProof> {
  const subject = { loginKey: loginKey(user.login_id), ip: ctx.ip };
  const lock = await lockState(deps.db, subject, now);
  if (lock.locked) return { kind: "locked", until: lock.until };
  const verdict = password.length > 0 && password.length <= 1024 ? await verifyPassword(user.password_hash, password) : { ok: false, needsUpgrade: false };
  const audit = { actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent };
  if (!verdict.ok) {
    const failure = await recordFailure(deps.db, "password", subject, now, deps.config.lock);
    await recordAudit(deps.db, now, { ...audit, event: "password.failed", detail: { reason: "wrong-password", during: purpose } });
    await tellLockStarted(deps, user, "password", failure, now);
    return { kind: "wrong" };
  }
  await recordSuccess(deps.db, "password", subject);
  if (verdict.needsUpgrade) await setPasswordHash(deps.db, user.id, await hashPassword(password), now);
  return { kind: "ok" };
}
