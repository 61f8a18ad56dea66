import { noticeMail } from "../otp/messages.ts";
import { formatDate, formatTime, maskEmail } from "../platform/format.ts";

interface Context {
  loginId: string;
  at: number;
  timezone: string;
  supportEmail: string;
}

function when(c: Context): string {
  return `${formatTime(c.at, c.timezone)} on ${formatDate(c.at, c.timezone)}`;
}

/** To the old address once the new one is confirmed (SPEC item 6: "the old address is told of the change"). */
export function emailChangedMail(c: Context & { newEmail: string }) {
  return noticeMail("Your FAMOS one time passcode email was changed", [
    `The email address that receives the one time passcodes for the FAMOS login ID ${c.loginId} was changed at ${when(c)} to ${maskEmail(c.newEmail)}.`,
    "From now on your codes go to the new address, and this address receives no more codes.",
    `If you did not make this change, someone may know your password and have access to your FAMOS account: write to your retail IT team at ${c.supportEmail} at once, with the subject "OTP email reset", so that they can reset it.`,
  ]);
}

/** To the OTP email after a password change on Profile. */
export function passwordChangedMail(c: Context) {
  return noticeMail("Your FAMOS password was changed", [
    `The password of the FAMOS login ID ${c.loginId} was changed at ${when(c)}. Every other session of this login ID has been signed out.`,
    `If you did not make this change, write to your retail IT team at ${c.supportEmail} at once.`,
  ]);
}
