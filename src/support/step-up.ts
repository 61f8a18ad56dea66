import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { CONSOLE_FRESHNESS, requireFreshProof, type FreshProof } from "../profile/reauthenticate.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Session } from "../session/sessions.ts";
import type { User } from "../users/users.ts";

/**
 * "Sudo mode" for the console: before an action that changes another account's access (the routes
 * marked `consoleWrite: "step-up"`), the acting person's session must have confirmed its second factor
 * within CONSOLE_RECENT_CODE_MS, or typed this step-up's password within it (remembered on the session:
 * CONSOLE_FRESHNESS), else their password is asked again. A support cookie stolen hours
 * after its sign-in would otherwise reset enrolments at scale, each victim then entering the thief's
 * address at their next sign-in (ASVS 3.7.1). Profile's rule (requireFreshProof), with the console's
 * window: the password is counted toward the same locks as every other, and its audit says
 * `during: console-step-up`; the step-up's own event names the action it was asked for.
 */
export async function consoleStepUp(deps: Deps, by: { user: User; session: Session }, password: string | null, ctx: RequestContext, action: string): Promise<FreshProof> {
  const proof = await requireFreshProof(deps, by.user, by.session, password, ctx, "console-step-up", CONSOLE_FRESHNESS);
  // Fresh by its code or an earlier step-up, or nothing typed yet: no step-up took place.
  if ((proof.kind === "ok" && proof.by !== "password") || proof.kind === "password-needed") return proof;
  const reason = proof.kind === "ok" ? null : proof.kind === "locked" ? "locked" : "wrong";
  await recordAudit(deps.db, deps.clock.now(), {
    event: proof.kind === "ok" ? "console.step-up-passed" : "console.step-up-failed",
    actor: by.user.login_id,
    subject: by.user.login_id,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    detail: { action, ...(reason ? { reason } : {}) },
  });
  return proof;
}
