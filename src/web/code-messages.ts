import type { Deps } from "../app/deps.ts";
import { durationInWords } from "../config/duration.ts";
import type { IssueOutcome } from "../otp/codes.ts";
import { formatDateTime, formatTime, formatTimeWithSeconds } from "../platform/format.ts";
import { html, type SafeHtml } from "../platform/html.ts";
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
  }
}

/** The wait or cap that stopped a new code, in words, with when to try again (SPEC item 4). */
export function issueProblemText(deps: Deps, notice: string, retryAt: number | null, purpose: CodePurpose = "signin"): string | undefined {
  const { otp, timezone } = deps.config;
  const now = deps.clock.now();
  if (notice === "wait" && retryAt !== null) {
    // Shown as a clock time (issue 15): "wait 20 seconds" is already wrong when it is read.
    const at = formatTimeWithSeconds(Math.max(retryAt, now + 1000), timezone);
    return `You can ask for another code at ${at} (codes can be sent ${durationInWords(otp.resendWaitMs)} apart).`;
  }
  if (notice === "attempt-cap") {
    return purpose === "signin"
      ? `You have had ${otp.perAttempt} codes for this sign-in, the most allowed. Use Cancel and log in again to start over.`
      : `You have had ${otp.perAttempt} codes for this change, the most allowed. Use Cancel and enter the new address again to start over.`;
  }
  if (notice === "hour-cap" && retryAt !== null) {
    return `You have had ${otp.perHour} codes in the last hour, the most allowed. You can ask for another at ${formatDateTime(retryAt, timezone)}.`;
  }
  return undefined;
}

/** Why a typed code was refused, with the status to answer and what to do next. */
export function confirmProblem(deps: Deps, outcome: Exclude<ConfirmOutcome, { kind: "signed-in" }>): [number, string | SafeHtml] {
  const { timezone } = deps.config;
  const regenerate = "Use Regenerate OTP to get a new one.";
  switch (outcome.kind) {
    case "malformed":
      return [400, "Enter the 6-digit code from the email."];
    case "locked":
      return [429, `Too many wrong codes. ${pauseText(deps, outcome)}`];
    case "expired":
      return [401, `This code has expired. ${regenerate}`];
    case "void":
      return [401, `This code no longer works. ${regenerate}`];
    case "used":
      return [401, `This code has already been used. ${regenerate}`];
    case "strong-factor-required":
      return [403, STRONG_TEXT.emailCodeRefused];
    case "wrong": {
      const tries =
        outcome.triesLeft === 0
          ? `That was the last try: this code no longer works. ${regenerate}`
          : `You have ${outcome.triesLeft} ${outcome.triesLeft === 1 ? "try" : "tries"} left.`;
      if (outcome.earlierSentAt !== null) {
        return [401, html`That is an earlier code; use the one sent at ${formatTime(outcome.currentSentAt, timezone)}. ${tries}`];
      }
      return [401, `That code is not right. ${tries}`];
    }
  }
}
