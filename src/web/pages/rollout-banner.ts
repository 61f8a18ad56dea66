import type { Deps } from "../../app/deps.ts";
import { formatDate } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { enrolInvitation } from "../../rollout/invitation.ts";
import type { User } from "../../users/users.ts";

/** "Two-factor sign-in starts for you on <date>: set your OTP email now", linking to early enrolment. */
export async function rolloutBanner(deps: Deps, user: User): Promise<SafeHtml> {
  const invitation = await enrolInvitation(deps, user);
  if (!invitation) return html``;
  const link = html`<a href="/rollout/enrol">set your OTP email now</a>`;
  const text =
    invitation.startsAt === null
      ? html`Two-factor sign-in has started for you: ${link}`
      : html`Two-factor sign-in starts for you on ${formatDate(invitation.startsAt, deps.config.timezone)}: ${link}`;
  return html`<aside class="rollout-banner" aria-label="Two-factor sign-in"><p>${text}</p></aside>`;
}
