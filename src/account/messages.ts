import { noticeMail } from "../otp/messages.ts";
import { formatDate, formatTime } from "../platform/format.ts";

interface Context {
  loginId: string;
  at: number;
  timezone: string;
  supportEmail: string;
}

const when = (at: number, timezone: string) => `${formatTime(at, timezone)} on ${formatDate(at, timezone)}`;

/** To the OTP email when support sets a temporary password. The password itself is never mailed. */
export function temporaryPasswordMail(c: Context & { until: number }) {
  return noticeMail("Your FAMOS password was reset by your retail IT team", [
    `Your retail IT team set a temporary password for the FAMOS login ID ${c.loginId} at ${when(c.at, c.timezone)}. They give it to you themselves; it works for one log in until ${when(c.until, c.timezone)}, and then FAMOS asks you to choose a new password.`,
    "Every session of this login ID has been signed out.",
    `If you did not ask for this, write to your retail IT team at ${c.supportEmail} at once.`,
  ]);
}

/** To the OTP email after a self-service reset (FAMOS_PASSWORD_RESET=self). */
export function passwordResetMail(c: Context) {
  return noticeMail("Your FAMOS password was reset", [
    `The password of the FAMOS login ID ${c.loginId} was reset with a code sent to this address at ${when(c.at, c.timezone)}. Every session of this login ID has been signed out.`,
    `If you did not do this, someone can read this mailbox: write to your retail IT team at ${c.supportEmail} at once.`,
  ]);
}
