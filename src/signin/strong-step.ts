import type { Deps } from "../app/deps.ts";
import { checkSecondFactor, type SecondFactor, type SecondFactorCheck } from "../factors/check-second-factor.ts";
import { voidFlowCodes } from "../otp/codes.ts";
import { findFlow, finishFlow } from "../otp/flows.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Session } from "../session/sessions.ts";
import { appFactor, hasApp } from "../strong-factors/authenticator-app.ts";
import { normaliseRecoveryCode, recoveryCodeFactor, recoveryCodesLeft } from "../strong-factors/recovery-codes.ts";
import { normaliseTotp } from "../strong-factors/totp.ts";
import type { User } from "../users/users.ts";
import { finishSignIn, type SignedInOutcome } from "./code-step.ts";

export type StrongConfirmOutcome =
  | SignedInOutcome
  | Exclude<SecondFactorCheck<never, { kind: "wrong" }>, { kind: "ok" }>
  | { kind: "malformed" }
  /** The user has no such factor: nothing was checked or counted. */
  | { kind: "none" }
  /** The sign-in this session was waiting for is gone (cancelled, finished). */
  | { kind: "void" };

/** OTP capture → "Use authenticator app": a code from the app completes the sign-in as the emailed one does. */
export async function confirmWithApp(deps: Deps, user: User, session: Session, typed: string, ctx: RequestContext): Promise<StrongConfirmOutcome> {
  const code = normaliseTotp(typed);
  if (code === null) return { kind: "malformed" };
  if (!(await hasApp(deps, user.id))) return { kind: "none" };
  return confirmFactor(deps, user, session, appFactor(deps, user, code, "signin"), ctx, "app");
}

/** OTP capture → "Use a recovery code": each code works once, and its use is mailed with how many remain. */
export async function confirmWithRecoveryCode(deps: Deps, user: User, session: Session, typed: string, ctx: RequestContext): Promise<StrongConfirmOutcome> {
  const code = normaliseRecoveryCode(typed);
  if (code === null) return { kind: "malformed" };
  if ((await recoveryCodesLeft(deps.db, user.id)) === 0) return { kind: "none" };
  const outcome = await confirmFactor(deps, user, session, recoveryCodeFactor(deps, user, code), ctx, "recovery");
  if (outcome.kind === "signed-in") deps.mailQueued();
  return outcome;
}

/**
 * The sign-in's flow is finished and its emailed code (if one was sent) stops working in the
 * transaction that uses the factor; finishSignIn does the rest, as for the emailed code.
 */
async function confirmFactor(deps: Deps, user: User, session: Session, factor: SecondFactor<{ kind: "wrong" }>, ctx: RequestContext, label: string): Promise<StrongConfirmOutcome> {
  const flow = session.flow_id ? await findFlow(deps.db, session.flow_id) : undefined;
  if (!flow || flow.finished_at !== null) return { kind: "void" };
  const finish = finishSignIn(deps, user, session, flow, ctx);
  const check = await checkSecondFactor(deps, user, factor, ctx, async (tx, now, deviceId) => {
    await voidFlowCodes(tx, flow.id, "other-factor", now);
    await finishFlow(tx, flow.id, now);
    return finish(tx, now, deviceId);
  });
  deps.metrics.signIns.inc({ outcome: `${label}-${check.kind}` });
  if (check.kind !== "ok") return check;
  const { token, session: advanced, deviceToken } = check.value;
  return { kind: "signed-in", token, session: advanced, returnTo: flow.return_to, flowKind: flow.kind, deviceToken };
}
