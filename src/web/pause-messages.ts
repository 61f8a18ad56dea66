import type { Deps } from "../app/deps.ts";
import { translator, type Translator } from "../i18n/translator.ts";
import { pauseOverBy } from "../regulation/pause-end.ts";
import type { Pause } from "../regulation/throttle.ts";

/**
 * The clock time a pause is over by, on a page: its end rounded up to the minute (pauseOverBy), with
 * its zone ("14:05 (UK time)"), as OTP capture's other times say theirs (Translator.withZone).
 */
export function pauseEnd(t: Translator, until: number): string {
  const end = pauseOverBy(until);
  return t.withZone(t.time(end), end);
}

/**
 * Which pause applies, until when, and where to get help (issue 10.3). The words depend on the pause
 * only — the login ID as typed, this browser, this network — never on whether an account exists, so
 * a known and an unknown login ID read the same (SPEC item 1). So the login ID's pause says a browser
 * signed in with before can still be used unless it is paused there too, and never looks whether it is:
 * at a shared counter PC a colleague pauses her usual browser as well (SECURITY.md known limit 6), and
 * "every one of your browsers is paused" would tell a stranger, who can pause any login ID from
 * anywhere, that an account has it and that its known browsers are failing.
 */
export function pauseText(deps: Pick<Deps, "config">, pause: Pause, t: Translator = translator(deps.config.defaultLocale ?? "en-GB", deps.config.timezone)): string {
  const help = t.text("pause.help", { support: deps.config.supportEmail });
  if (pause.until === null) return t.text("pause.hardLocked", { help });
  const until = pauseEnd(t, pause.until);
  switch (pause.scope) {
    case "login-id":
      return t.text("pause.loginId", { until, help });
    case "device":
      return t.text("pause.device", { until, help });
    case "address":
      return t.text("pause.address", { until, help });
  }
}

/** The login page's answer to a refused password step: wrong (and the pause it started), or the pause alone. */
export function refusedText(deps: Pick<Deps, "config">, refusal: { pause: Pause | null; wrong: boolean }, t: Translator = translator(deps.config.defaultLocale ?? "en-GB", deps.config.timezone)): string {
  if (refusal.pause) {
    const pause = pauseText(deps, refusal.pause, t);
    return refusal.wrong ? t.text("refused.wrongAndPaused", { pause }) : pause;
  }
  return refusal.wrong ? t.text("refused.wrong") : t.text("refused.checkAgain");
}
