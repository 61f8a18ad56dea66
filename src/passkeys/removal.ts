import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { FreshProof } from "../profile/reauthenticate.ts";
import { factorChangeProof } from "../strong-factors/manage.ts";
import { inLiveSession, type SignedOut } from "../session/live-session.ts";
import type { Session } from "../session/sessions.ts";
import type { User } from "../users/users.ts";
import { markStrongFactors } from "../strong-factors/factors.ts";
import { tellFactorChange } from "../strong-factors/factor-notice.ts";
import { removePasskey } from "./passkeys.ts";

export type RemoveOutcome = { kind: "removed"; name: string } | { kind: "not-found" } | SignedOut | Exclude<FreshProof, { kind: "ok" }>;

/**
 * Profile → "Remove" on one passkey: after a fresh proof (ASVS 3.7.1), removed and audited in one
 * transaction, while the session is live (inLiveSession).
 */
export async function removeOwnPasskey(deps: Deps, user: User, session: Session, input: { id: string; password: string | null }, ctx: RequestContext): Promise<RemoveOutcome> {
  const proof = await factorChangeProof(deps, user, session, input.password, ctx);
  if (proof.kind !== "ok") return proof;
  const now = deps.clock.now();
  const removed = await inLiveSession(deps, user, session, async (tx) => {
    const name = await removePasskey(tx, user.id, input.id);
    if (name !== null) {
      await markStrongFactors(tx, user.id, now);
      await recordAudit(tx, now, { event: "passkey.removed", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { name } });
      await tellFactorChange(tx, deps, user, now, { what: "passkey-removed", name });
    }
    return name;
  });
  if ("kind" in removed) return removed;
  if (removed.value !== null) deps.mailQueued();
  return removed.value === null ? { kind: "not-found" } : { kind: "removed", name: removed.value };
}
