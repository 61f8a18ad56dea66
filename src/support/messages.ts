import { noticeMail } from "../otp/messages.ts";
import { formatDate, formatTime } from "../platform/format.ts";

/** To the address that was reset: the request is confirmed, and what to do if it was not theirs. */
export function resetMail(c: { loginId: string; ticket: string; at: number; timezone: string; supportEmail: string }) {
  return noticeMail("Your FAMOS one time passcode email was reset", [
    `Your retail IT team reset the email address that receives the one time passcodes for the FAMOS login ID ${c.loginId} at ${formatTime(c.at, c.timezone)} on ${formatDate(c.at, c.timezone)} (ticket ${c.ticket}).`,
    "This address receives no more codes. At your next log in, FAMOS asks for the email address to use from now on (the \"User profile\" screen).",
    `If you did not ask for this, write to your retail IT team at ${c.supportEmail} at once.`,
  ]);
}
