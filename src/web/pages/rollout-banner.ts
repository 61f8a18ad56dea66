import type { Deps } from "../../app/deps.ts";
import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { enrolInvitation } from "../../rollout/invitation.ts";
import type { User } from "../../users/users.ts";

/** "Two-factor sign-in starts for you on <date>: set your OTP email now", linking to early enrolment. */
export async function rolloutBanner(deps: Deps, user: User, t: Translator): Promise<SafeHtml> {
  const invitation = await enrolInvitation(deps, user);
  if (!invitation) return html``;
  const link = html`<a href="/rollout/enrol">${t.text("rollout.bannerLink")}</a>`;
  const text =
    invitation.startsAt === null
      ? t.html("rollout.bannerStarted", { link })
      : t.html("rollout.bannerStarts", { date: t.date(invitation.startsAt), link });
  return html`<aside class="rollout-banner" aria-label="${t.text("rollout.bannerLabel")}"><p>${text}</p></aside>`;
}
