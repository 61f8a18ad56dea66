import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { issueCode, type IssueOutcome } from "../otp/codes.ts";
import { createFlow } from "../otp/flows.ts";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../password/hash.ts";
import { tellLockStarted } from "../regulation/lock-notice.ts";
import { twoFactorAppliesNow } from "../rollout/applies.ts";
import { signInBeforeWave } from "../rollout/password-only.ts";
import { lockState, recordFailure, recordSuccess } from "../regulation/throttle.ts";
import { createSession, type Session } from "../session/sessions.ts";
import { signInBarred } from "../account/access.ts";
import { findUserByLogin, loginKey, setPasswordHash, type User } from "../users/users.ts";
import type { RequestContext } from "./context.ts";

export const MAX_LOGIN_ID_LENGTH = 128;
export const MAX_PASSWORD_LENGTH = 1024;

export type PasswordOutcome =
  /** Unknown login ID, wrong password or a locked account: one answer for all (no enumeration). */
  | { kind: "refused" }
  | { kind: "enrol"; token: string; session: Session }
  /** Before the user's 2FA start (issue 12): the password alone opens the portal. */
  | { kind: "portal"; token: string; session: Session }
  /** `issued` says whether the first code went out, or a cap stopped it (OTP capture tells why). */
  | { kind: "code"; token: string; session: Session; issued: IssueOutcome };

/**
 * Screen 1, "Log in". Every refusal does the same work (one argon2id verification), so neither the
 * answer nor its timing says whether the login ID exists or is locked (ASVS 2.2.1, 3.2.x).
 */
export async function passwordStep(
  deps: Deps,
  input: { loginId: string; password: string; returnTo?: string | null },
  ctx: RequestContext,
): Promise<PasswordOutcome> {
  const now = deps.clock.now();
  const key = loginKey(input.loginId);
  const subject = { loginKey: key, ip: ctx.ip };
  const audit = (event: "password.ok" | "password.failed", detail: Record<string, string> = {}) =>
    recordAudit(deps.db, now, { event, actor: input.loginId.slice(0, MAX_LOGIN_ID_LENGTH), subject: input.loginId.slice(0, MAX_LOGIN_ID_LENGTH), ip: ctx.ip, userAgent: ctx.userAgent, detail });

  if (key === "" || key.length > MAX_LOGIN_ID_LENGTH || input.password.length === 0 || input.password.length > MAX_PASSWORD_LENGTH) {
    await burnPasswordCheck(input.password.slice(0, MAX_PASSWORD_LENGTH));
    deps.metrics.signIns.inc({ outcome: "password-refused" });
    return { kind: "refused" };
  }

  const [lock, found] = await Promise.all([lockState(deps.db, subject, now), findUserByLogin(deps.db, key)]);
  // A disabled account, or one whose temporary password ran out, is answered as an unknown one.
  const barred = found ? signInBarred(found, now) : null;
  const user = barred ? undefined : found;
  if (lock.locked) {
    // Same work as a wrong password; the lock is neither extended nor counted.
    await burnPasswordCheck(input.password);
    await audit("password.failed", { reason: "locked" });
    deps.metrics.signIns.inc({ outcome: "password-locked" });
    return { kind: "refused" };
  }

  const verdict = user ? await verifyPassword(user.password_hash, input.password) : (await burnPasswordCheck(input.password), null);
  if (!user || !verdict?.ok) {
    const failure = await recordFailure(deps.db, "password", subject, now, deps.config.lock);
    await audit("password.failed", { reason: barred ?? (user ? "wrong-password" : "unknown-login-id") });
    await tellLockStarted(deps, user, "password", failure, now);
    deps.metrics.signIns.inc({ outcome: "password-refused" });
    return { kind: "refused" };
  }

  // Most sign-ins follow no failure: then there is no run of failures to end, and no write.
  if (lock.counting.password) await recordSuccess(deps.db, "password", subject);
  if (verdict.needsUpgrade) await setPasswordHash(deps.db, user.id, await hashPassword(input.password), now);
  await audit("password.ok");
  deps.metrics.signIns.inc({ outcome: "password-ok" });
  if (!(await twoFactorAppliesNow(deps, user, deps.clock.now()))) return signInBeforeWave(deps, user, ctx);
  return user.otp_email ? startCodeStep(deps, user, input.returnTo ?? null, ctx, now) : startEnrolment(deps, user, ctx, now);
}

async function startEnrolment(deps: Deps, user: User, ctx: RequestContext, now: number): Promise<PasswordOutcome> {
  const { token, session } = await createSession(deps.db, deps.random, now, deps.config.session, {
    userId: user.id,
    stage: "enrol",
    flowId: null,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
  });
  return { kind: "enrol", token, session };
}

/** A new sign-in attempt: its flow, its first code and mail, and a session waiting for the code. */
async function startCodeStep(deps: Deps, user: User, returnTo: string | null, ctx: RequestContext, now: number): Promise<PasswordOutcome> {
  const email = user.otp_email!;
  const result = await deps.db.transaction().execute(async (tx) => {
    const flow = await createFlow(tx, deps.random, { userId: user.id, kind: "signin", email, now, returnTo });
    const issued = await issueCode(deps, tx, flow, user.login_id, now, ctx);
    const created = await createSession(tx, deps.random, now, deps.config.session, {
      userId: user.id,
      stage: "otp",
      flowId: flow.id,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    });
    if (issued.kind === "sent") {
      await recordAudit(tx, now, { event: "code.sent", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { purpose: "signin" } });
    }
    return { ...created, issued };
  });
  if (result.issued.kind === "sent") {
    deps.metrics.codesSent.inc();
    deps.mailQueued();
  }
  // When the hourly cap stopped the first code, the OTP screen says so and when a new one can be had.
  return { kind: "code", token: result.token, session: result.session, issued: result.issued };
}
