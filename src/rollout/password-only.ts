import type { Kysely } from "kysely";
import { stageAfterSignIn } from "../account/temporary-password.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { createSession, type Session } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import { recordSignIn, type User } from "../users/users.ts";

/** Where the request came from (the sign-in steps' request context), for the audit trail. */
type Origin = { ip: string; userAgent: string };

/**
 * Before the user's wave the password alone opens the portal: a full session that records no
 * verified code (`verified_at` null), so a step that asks for a recent code asks for the password.
 * A temporary password is used up here as after a code, and leads to "Choose a new password" first
 * (stageAfterSignIn). Written in `tx`, the transaction that settles the password (checkPassword's
 * AfterPassword), which took the account's row first: of two sign-ins at once with the temporary
 * password, the second is checked again against the spent one and refused.
 */
export async function signInBeforeWave(
  deps: Pick<Deps, "random" | "config">,
  tx: Kysely<Database>,
  user: User,
  ctx: Origin,
  now: number,
): Promise<{ kind: "portal"; token: string; session: Session }> {
  const stage = await stageAfterSignIn(tx, user, now, ctx);
  const made = await createSession(tx, deps.random, now, deps.config.session, { userId: user.id, stage, flowId: null, ip: ctx.ip, userAgent: ctx.userAgent });
  await recordSignIn(tx, user.id, now);
  await recordAudit(tx, now, { event: "signin.before-wave", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
  return { kind: "portal", ...made };
}
