import type { Deps } from "../../src/app/deps.ts";
import { resetState, sendResetCode, type ResetState } from "../../src/password-reset/reset.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";

/**
 * Step 1 of the self-service reset whole, as the route runs it but in order: the answer's state, then
 * the account's work awaited (the route runs the work after its answer, web/after-reply.ts).
 */
export async function startPasswordReset(deps: Deps, loginId: string, ctx: RequestContext): Promise<ResetState> {
  const state = resetState(deps, loginId);
  await sendResetCode(deps, state, ctx);
  return state;
}
