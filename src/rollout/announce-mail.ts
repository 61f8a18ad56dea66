import { durationInWords } from "../config/duration.ts";
import type { Config } from "../config/config.ts";
import { formatDate, formatDateTime } from "../platform/format.ts";
import { noticeMail } from "../otp/messages.ts";

export const ANNOUNCEMENT_KIND = "rollout.announcement";

export interface AnnouncementInput {
  loginId: string;
  fullName: string;
  partnerNumber: string;
  /** The user's start, or null when two-factor sign-in already applies to everyone (no plan). */
  startsAt: number | null;
  now: number;
}

/**
 * The announcement, shaped by the guide the dealers know (seed/famos-2fa-guide.txt): the usual log
 * on credentials, then "User profile" once, then a code by email on every sign-in; how to set the
 * address early; what to do about a wrong address. No link to click for a code, ever.
 */
export function announcementMail(config: Readonly<Config>, input: AnnouncementInput): { subject: string; text: string; html: string } {
  const tz = config.timezone;
  const future = input.startsAt !== null && input.startsAt > input.now;
  const when = future ? `${formatDateTime(input.startsAt!, tz)} (${tz})` : null;
  const subject = future ? `FAMOS two-factor sign-in starts for you on ${formatDate(input.startsAt!, tz)}` : "FAMOS two-factor sign-in is on for you";
  const portal = config.publicUrl.origin;
  return noticeMail(subject, [
    `Dear ${input.fullName},`,
    future
      ? `From ${when}, signing in to FAMOS takes two steps: your usual login ID (${input.loginId}) and password, then a one time passcode (OTP) sent to you by email.`
      : `Signing in to FAMOS now takes two steps: your usual login ID (${input.loginId}) and password, then a one time passcode (OTP) sent to you by email.`,
    "At your first log-in you will be asked, on the \"User profile\" screen, for the email address that will receive the passcode. Please use your individually assigned work email address, not a shared group mailbox. You will not be asked again.",
    future
      ? `You can set it now: sign in to FAMOS at ${portal} as usual and choose "set your OTP email now" on the banner at the top of the page.`
      : `Sign in to FAMOS at ${portal} as usual to set it.`,
    `The passcode arrives by email almost immediately and is valid for ${durationInWords(config.otp.ttlMs)}. Type it on the "OTP capture" screen. FAMOS will never ask you for a passcode by phone or email.`,
    `If you enter a wrong address by mistake, email your retail IT team at ${config.supportEmail} with the subject "OTP email reset" and the lines "Name:", "FAMOS Log in ID:" and "Partner number:" (yours: ${input.partnerNumber}).`,
  ]);
}
