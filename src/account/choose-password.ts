import type { Deps } from "../app/deps.ts";
import { hashPassword, verifyPassword } from "../password/hash.ts";
import { checkChosenPassword, replacePassword, type PasswordChangeOutcome } from "../profile/password-change.ts";
import type { Session } from "../session/sessions.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { User } from "../users/users.ts";
import { stageOnceVerified } from "../strong-factors/policy.ts";

export type ChooseOutcome = Exclude<PasswordChangeOutcome, { kind: "current-wrong" } | { kind: "locked" }>;

/**
 * "Choose a new password" (issue 11): after a temporary password and the code, under the Profile
 * password rules; the temporary one is not accepted again. Then the portal, as after any sign-in.
 */
export async function chooseNewPassword(deps: Deps, user: User, session: Session, input: { newPassword: string; confirmNewPassword: string }, ctx: RequestContext): Promise<ChooseOutcome> {
  const invalid = checkChosenPassword(user, input.newPassword, input.confirmNewPassword);
  if (invalid) return invalid;
  if ((await verifyPassword(user.password_hash, input.newPassword)).ok) {
    return { kind: "invalid", field: "newPassword", message: "That is the temporary password. Choose a password of your own." };
  }
  // A user of FAMOS_STRONG_FACTOR_ROLES without a strong factor sets one up next (issue 13).
  const stage = await stageOnceVerified(deps.db, deps.config, user, "full");
  return replacePassword(deps, user, session, await hashPassword(input.newPassword), ctx, { stage, detail: { via: "temporary-password" } });
}
