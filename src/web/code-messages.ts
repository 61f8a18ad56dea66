import type { Deps } from "../app/deps.ts";
import type { MessageKey } from "../i18n/catalogues.ts";
import type { Translator } from "../i18n/translator.ts";
import { translator } from "../i18n/translator.ts";
import { noMoreCodes, type IssueOutcome } from "../otp/codes.ts";
import { flowTakesCodes, type Flow } from "../otp/flows.ts";
import type { SafeHtml } from "../platform/html.ts";
import type { ConfirmOutcome } from "../signin/code-step.ts";
import { pauseText } from "./pause-messages.ts";
import { STRONG_TEXT } from "../strong-factors/messages.ts";

/** What a code is for, so the words fit the page: a sign-in, or a change of the OTP email. */
export type CodePurpose = "signin" | "email-change";

/** After Regenerate or enrolment: what happened, carried in the redirect to the OTP screen. */
export function issueNotice(issued: IssueOutcome): string {
  switch (issued.kind) {
    case "sent":
      return "?notice=sent";
    case "wait":
      return `?notice=wait&at=${issued.retryAt}`;
    case "hour-cap":
      return `?notice=hour-cap&at=${issued.retryAt}`;
    case "attempt-cap":
      return "?notice=attempt-cap";
    case "no-flow":
      // Finished since it was read (the Regenerate routes answer this before): the page shows where it stands.
      return "";
  }
}

/** Words for callers without a reader (tests, the CLI): FAMOS_DEFAULT_LOCALE in FAMOS_TIMEZONE. */
export function defaultTranslator(deps: Pick<Deps, "config">): Translator {
  return translator(deps.config.defaultLocale ?? "en-GB", deps.config.timezone);
}

/** The wait or cap that stopped a new code, in words, with when to try again (SPEC item 4). */
export function issueProblemText(
  deps: Pick<Deps, "config" | "clock">,
  notice: string,
  retryAt: number | null,
  purpose: CodePurpose = "signin",
  t: Translator = defaultTranslator(deps),
): string | undefined {
  const { otp } = deps.config;
  const now = deps.clock.now();
  if (notice === "wait" && retryAt !== null) {
    // Shown as a clock time (issue 15): "wait 20 seconds" is already wrong when it is read. With its
    // zone, as OTP capture's other times; without brackets, which the sentence has next.
    const at = Math.max(retryAt, now + 1000);
    return t.text("issue.wait", { at: t.withZone(t.timeWithSeconds(at), at, false), apart: t.duration(otp.resendWaitMs) });
  }
  if (notice === "attempt-cap") return attemptCapText(deps, purpose, t);
  if (notice === "hour-cap" && retryAt !== null) {
    return t.text("issue.hourCap", { count: otp.perHour, at: t.withZone(t.dateTime(retryAt), retryAt) });
  }
  return undefined;
}

/** The flow has had its FAMOS_OTP_PER_ATTEMPT codes: Cancel and start over is what is left (SPEC "Regenerate"). */
function attemptCapText(deps: Pick<Deps, "config">, purpose: CodePurpose, t: Translator): string {
  return t.text(purpose === "signin" ? "issue.attemptCapSignin" : "issue.attemptCapChange", { count: deps.config.otp.perAttempt });
}

/**
 * The cap's sentence when a flow with `codesSent` codes may have no more (otp/codes.ts noMoreCodes, the
 * rule's one home), else null: what a refused or lapsed code then says instead of "Use Regenerate OTP",
 * which would be refused, and what disables that button (codeForm).
 */
export function noMoreCodesText(deps: Pick<Deps, "config">, codesSent: number, purpose: CodePurpose, t: Translator): string | null {
  return noMoreCodes(codesSent, deps.config.otp.perAttempt) ? attemptCapText(deps, purpose, t) : null;
}

/** What a code page needs of its flow to tell whether Regenerate OTP would help (null: the flow is gone). */
export type FlowCodes = Pick<Flow, "codes_sent" | "finished_at" | "email"> | null | undefined;

/**
 * Why Regenerate OTP would not help, else null: the flow no longer takes codes (removed, finished, no
 * address: otp/flows.ts flowTakesCodes), so Cancel and log in again; or it has had its codes
 * (noMoreCodesText). What a refused or lapsed code says instead of "Use Regenerate OTP", and what
 * disables and describes that button (codeForm).
 */
export function regenerateRefusal(deps: Pick<Deps, "config">, flow: FlowCodes, purpose: CodePurpose, t: Translator): string | null {
  if (!flow || !flowTakesCodes(flow)) return t.text("otp.flowEnded");
  return noMoreCodesText(deps, flow.codes_sent, purpose, t);
}

/** Why a code can no longer be used, and what to do: Regenerate OTP, or with `cap` (regenerateRefusal) why that would not help. */
export function lapsedText(t: Translator, lapse: keyof typeof LAPSED, cap: string | null): string {
  const [regenerate, noMore] = LAPSED[lapse];
  return cap === null ? t.text(regenerate) : t.text(noMore, { cap });
}

/** Each way a code stops working: its words pointing to Regenerate OTP, and those ending with the cap's sentence. */
const LAPSED = {
  expired: ["confirm.expired", "confirm.expiredNoMore"],
  void: ["confirm.void", "confirm.voidNoMore"],
  used: ["confirm.used", "confirm.usedNoMore"],
  lastTry: ["confirm.lastTry", "confirm.lastTryNoMore"],
} as const satisfies Record<string, readonly [MessageKey, MessageKey]>;

/** Why a typed code was refused, with the status to answer and what to do next. */
export function confirmProblem(
  deps: Pick<Deps, "config">,
  outcome: Exclude<ConfirmOutcome, { kind: "signed-in" | "signed-out" }>,
  t: Translator,
  purpose: CodePurpose,
  flow: FlowCodes,
): [number, string | SafeHtml] {
  const cap = regenerateRefusal(deps, flow, purpose, t);
  switch (outcome.kind) {
    case "malformed":
      return [400, t.text("confirm.malformed")];
    case "locked":
      return [429, t.text("confirm.locked", { pause: pauseText(deps, outcome, t) })];
    case "expired":
      return [401, lapsedText(t, "expired", cap)];
    case "void":
      return [401, lapsedText(t, "void", cap)];
    case "used":
      return [401, lapsedText(t, "used", cap)];
    case "strong-factor-required":
      return [403, t.said(STRONG_TEXT.emailCodeRefused)];
    case "wrong": {
      const tries = outcome.triesLeft === 0 ? lapsedText(t, "lastTry", cap) : t.text("confirm.triesLeft", { count: outcome.triesLeft });
      if (outcome.earlierSentAt !== null) return [401, t.text("confirm.earlierCode", { at: t.withZone(t.time(outcome.currentSentAt), outcome.currentSentAt), tries })];
      return [401, t.text("confirm.wrong", { tries })];
    }
  }
}
