import type { Deps } from "../app/deps.ts";
import { formatTime } from "../platform/format.ts";
import type { Pause } from "../regulation/throttle.ts";

/**
 * Which pause applies, until when, and where to get help (issue 10.3). The words depend on the pause
 * only — the login ID as typed, this browser, this network — never on whether an account exists, so
 * a known and an unknown login ID read the same (SPEC item 1).
 */
export function pauseText(deps: Pick<Deps, "config">, pause: Pause): string {
  const { timezone, supportEmail } = deps.config;
  const help = `For help, write to ${supportEmail}.`;
  if (pause.until === null) {
    return `Sign-in with this login ID is locked after too many wrong codes, until your retail IT team unlocks it. ${help}`;
  }
  const until = formatTime(pause.until, timezone);
  switch (pause.scope) {
    case "login-id":
      return `Sign-in with this login ID is paused on new browsers until ${until}, after repeated failures. A browser where you have signed in with it before can still be used. ${help}`;
    case "device":
      return `Sign-in with this login ID is paused on this browser until ${until}, after repeated failures here. ${help}`;
    case "address":
      return `Sign-in from this network is paused for new browsers until ${until}, after many failed sign-ins from it. Browsers where you have signed in before can still be used. ${help}`;
  }
}

/** The login page's answer to a refused password step: wrong (and the pause it started), or the pause alone. */
export function refusedText(deps: Pick<Deps, "config">, refusal: { pause: Pause | null; wrong: boolean }): string {
  const wrong = refusal.wrong ? "The login ID or password is not right. " : "";
  return refusal.pause ? `${wrong}${pauseText(deps, refusal.pause)}` : `${wrong}Check them and try again.`;
}
