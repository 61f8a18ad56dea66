import type { Deps } from "../app/deps.ts";
import { normaliseTypedCode } from "../otp/code.ts";
import { codeRefusedLine } from "../otp/code-verdict.ts";
import { matchCode, spendCode, type CodeMatch, type VerifyOutcome } from "../otp/codes.ts";
import { finishFlow, type Flow } from "../otp/flows.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { User } from "../users/users.ts";
import { checkSecondFactor, type OnConfirmed, type SecondFactorCheck } from "./check-second-factor.ts";
import { codeReusedLine } from "./code-reuse.ts";

export type { OnConfirmed } from "./check-second-factor.ts";

type CodeFailure = Exclude<VerifyOutcome, { kind: "ok" } | { kind: "used" } | { kind: "spent" }>;

export type CodeCheck<T> = SecondFactorCheck<T, CodeFailure> | { kind: "malformed" };

/**
 * The emailed code, one home for sign-in, enrolment and the email change, through the rules every
 * second factor shares (checkSecondFactor). Wrong, expired and void codes count toward the lock;
 * neither Regenerate nor a new sign-in resets that count, a confirmed code does — in the same
 * transaction that finishes the flow. The right code arriving twice (a double click, or the losers
 * of a race with it) guesses nothing and gives its count back, on every flow alike, and is audited as
 * code.reused (ASVS 2.8.5, codeReusedLine); another code in a flow its code finished ("spent",
 * explainMissingCode) guesses nothing either, and writes no line; nor does a code that found no live code
 * in a flow the user's own request voided since this one read it (`voidedSince`).
 */
export async function checkCode<T>(
  deps: Deps,
  input: {
    user: User;
    flow: Flow;
    typed: string;
    /**
     * Whether the flow was voided since this request read it — sign-in's Cancel in another tab ended the
     * session with its code; the email change's Cancel, or a newer change, finished the flow: asked only
     * when no live code was compared ("void", "expired").
     */
    voidedSince?: () => Promise<boolean>;
  },
  ctx: RequestContext,
  confirmed: OnConfirmed<T>,
): Promise<CodeCheck<T>> {
  const { user, flow } = input;
  const code = normaliseTypedCode(input.typed);
  if (code === null) return { kind: "malformed" };
  // The right code is used up in the confirming transaction, with the flow's finish (issue 17).
  let matched: CodeMatch | null = null;
  return checkSecondFactor<T, CodeFailure>(
    deps,
    user,
    {
      verify: async (now) => {
        const outcome = await matchCode(deps, flow.id, code, now);
        // A flow voided meanwhile by the user's own request (Cancel voids the code, in the transaction that
        // ends the session or the flow): the code found void or lapsed there was no guess, so it counts
        // nothing and writes no line, as the right code voided under its use does (refuseProof). A "wrong"
        // one was compared with a live code, before that end: a guess, counted.
        if ((outcome.kind === "void" || outcome.kind === "expired") && (await input.voidedSince?.())) return { kind: "voided" };
        if (outcome.kind !== "match") return outcome;
        matched = outcome;
        return { kind: "ok" };
      },
      consume: async (tx, now) => {
        if (!matched) return "used";
        // Lost to another request: the one that used the code (its twin), or one that voided it (Cancel
        // in another tab, Regenerate), read with the user's row taken, after that request's commit (spendCode).
        const spent = await spendCode(tx, matched, now);
        if (spent !== "consumed") return spent;
        await finishFlow(tx, flow.id, now);
        return "consumed";
      },
      failed: (outcome) => codeRefusedLine(outcome, flow.kind),
      confirmed: { event: "code.confirmed", detail: { purpose: flow.kind } },
      reused: codeReusedLine(flow),
      metrics: { failed: () => deps.metrics.codesFailed.inc(), confirmed: () => deps.metrics.codesConfirmed.inc() },
    },
    ctx,
    confirmed,
  );
}
