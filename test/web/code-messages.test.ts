import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { loadConfig } from "../../src/config/config.ts";
import { translator } from "../../src/i18n/translator.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { confirmProblem, issueProblemText } from "../../src/web/code-messages.ts";

/** A live flow that has had `codes` codes, as confirmProblem reads it. */
const flowWith = (codes: number) => ({ codes_sent: codes, finished_at: null, email: "jo@dealer.example" });

describe("code messages in words (SPEC item 4: waits and caps are told in words)", () => {
  const result = loadConfig({ FAMOS_OTP_RESEND_WAIT: "30s", FAMOS_OTP_PER_ATTEMPT: "5", FAMOS_OTP_PER_HOUR: "10" });
  if (!result.ok) throw new Error(result.errors.join("; "));
  const clock = new FixedClock(Date.UTC(2026, 10, 28, 14, 0, 0));
  const deps = { config: result.config, clock } as unknown as Deps;

  it("tells the end of the wait as a time, and the setting", () => {
    // 14:00:00 UTC is 14:00:00 in London in November.
    expect(issueProblemText(deps, "wait", clock.now() + 25_000)).toBe(
      "You can ask for another code at 14:00:25 UK time (codes can be sent 30 seconds apart).",
    );
  });

  it("fits the per-attempt cap to what the code is for", () => {
    expect(issueProblemText(deps, "attempt-cap", null)).toMatch(/5 codes for this sign-in.*log in again/);
    expect(issueProblemText(deps, "attempt-cap", null, "email-change")).toMatch(/5 codes for this change.*enter the new address again/);
  });

  it("counts the caps' codes in words in every language: a cap of 1 is '1 code', not '1 codes'", () => {
    const one = loadConfig({ FAMOS_OTP_PER_ATTEMPT: "1", FAMOS_OTP_PER_HOUR: "1" });
    if (!one.ok) throw new Error(one.errors.join("; "));
    const single = { config: one.config, clock } as unknown as Deps;
    const retryAt = Date.UTC(2026, 10, 28, 14, 32);
    expect(issueProblemText(single, "attempt-cap", null)).toMatch(/^You have had 1 code for this sign-in, the most allowed\./);
    expect(issueProblemText(single, "attempt-cap", null, "email-change")).toMatch(/^You have had 1 code for this change, the most allowed\./);
    expect(issueProblemText(single, "hour-cap", retryAt)).toMatch(/^You have had 1 code in the last hour, the most allowed\./);
    // The plural word of each language (its "5 codes") is not used for one.
    const plural = { de: "Codes", fr: "codes", it: "codici", es: "códigos", nl: "codes" } as const;
    for (const [locale, word] of Object.entries(plural)) {
      const t = translator(locale as keyof typeof plural, "Europe/London");
      for (const [notice, purpose] of [["attempt-cap", "signin"], ["attempt-cap", "email-change"], ["hour-cap", "signin"]] as const) {
        expect(issueProblemText(single, notice, retryAt, purpose, t), `${locale} ${notice} ${purpose}`).not.toContain(`1 ${word}`);
        expect(issueProblemText(deps, notice, retryAt, purpose, t), `${locale} ${notice} ${purpose}`).toMatch(new RegExp(`\\b(5|10) ${word}\\b`));
      }
    }
  });

  it("tells when the hourly cap lets another code go, in FAMOS_TIMEZONE", () => {
    expect(issueProblemText(deps, "hour-cap", Date.UTC(2026, 10, 28, 14, 32))).toBe(
      "You have had 10 codes in the last hour, the most allowed. You can ask for another at 28/11/2026 14:32 (UK time).",
    );
  });
});

/**
 * QA: Regenerate OTP's wait ("another code at 14:00:30") and the hourly cap named no zone, while OTP
 * capture's other times and the code's mail do ("(UK time)"): staff whose PC is set to another zone
 * could not tell when to press again. Both now name it, in the reader's language, as those do.
 */
describe("the wait and the hourly cap name the zone of their clock time", () => {
  const result = loadConfig({ FAMOS_TIMEZONE: "Europe/Berlin" });
  if (!result.ok) throw new Error(result.errors.join("; "));
  const clock = new FixedClock(Date.UTC(2026, 10, 28, 13, 0, 0));
  const deps = { config: result.config, clock } as unknown as Deps;

  it("in English and German", () => {
    const en = translator("en-GB", "Europe/Berlin");
    const de = translator("de", "Europe/Berlin");
    expect(issueProblemText(deps, "wait", clock.now() + 25_000, "signin", en)).toBe(
      "You can ask for another code at 14:00:25 Central European Time (codes can be sent 30 seconds apart).",
    );
    expect(issueProblemText(deps, "hour-cap", Date.UTC(2026, 10, 28, 13, 32), "signin", en)).toBe(
      "You have had 10 codes in the last hour, the most allowed. You can ask for another at 28/11/2026 14:32 (Central European Time).",
    );
    expect(issueProblemText(deps, "wait", clock.now() + 25_000, "signin", de)).toContain("um 14:00:25 Mitteleuropäische Zeit einen");
    expect(issueProblemText(deps, "hour-cap", Date.UTC(2026, 10, 28, 13, 32), "signin", de)).toMatch(/am 28\.11\.2026 14:32 \(Mitteleuropäische Zeit\) anfordern\.$/);
  });

  it("once the flow has had its codes, a refused code's words end with the cap's, not Regenerate OTP, in every language (used, void, last try, expired)", () => {
    const t = translator("en-GB", "Europe/London");
    const cap = "You have had 5 codes for this sign-in, the most allowed. Use Cancel and log in again to start over.";
    const change = "You have had 5 codes for this change, the most allowed. Use Cancel and enter the new address again to start over.";
    const lastTry = { kind: "wrong", triesLeft: 0, earlierSentAt: null, currentSentAt: clock.now() } as const;
    expect(confirmProblem(deps, { kind: "used" }, t, "signin", flowWith(5))).toEqual([401, `This code has already been used. ${cap}`]);
    expect(confirmProblem(deps, { kind: "void" }, t, "signin", flowWith(5))).toEqual([401, `This code no longer works. ${cap}`]);
    expect(confirmProblem(deps, lastTry, t, "signin", flowWith(5))).toEqual([401, `That code is not right. That was the last try: this code no longer works. ${cap}`]);
    expect(confirmProblem(deps, { kind: "void" }, t, "email-change", flowWith(5))).toEqual([401, `This code no longer works. ${change}`]);
    expect(confirmProblem(deps, { kind: "expired" }, t, "signin", flowWith(5))).toEqual([401, `This code has expired. ${cap}`]);
    // With a code still to be had, Regenerate OTP as before.
    expect(confirmProblem(deps, { kind: "used" }, t, "signin", flowWith(4))).toEqual([401, "This code has already been used. Use Regenerate OTP to get a new one."]);
    expect(confirmProblem(deps, lastTry, t, "signin", flowWith(4))[1]).toContain("Use Regenerate OTP");
    for (const locale of ["de", "fr", "it", "es", "nl"] as const) {
      const tl = translator(locale, "Europe/London");
      const capped = tl.text("issue.attemptCapSignin", { count: 5 });
      for (const outcome of [{ kind: "used" }, { kind: "void" }, lastTry] as const) {
        const [, words] = confirmProblem(deps, outcome, tl, "signin", flowWith(5));
        expect(words, `${locale} ${outcome.kind}`).toMatch(new RegExp(`\\. ${capped.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
        expect(words, `${locale} ${outcome.kind}`).not.toBe(confirmProblem(deps, outcome, tl, "signin", flowWith(4))[1]);
      }
    }
  });
});
