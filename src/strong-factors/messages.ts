import { noticeMail } from "../otp/messages.ts";
import { formatDate, formatTime } from "../platform/format.ts";

/**
 * Issue 13's user-facing words (sign-in, Profile, the setup screen, the console, the CLI and mail),
 * in one place for the message catalogue (issue 16) to take over.
 */
export const STRONG_TEXT = {
  emailCodeRefused: "Your account needs your authenticator app, a passkey or a recovery code to sign in: the emailed code is not enough.",
  appMalformed: "Enter the 6-digit code your authenticator app shows now.",
  appWrong: "That code is not right. Check the time on your phone, and type the code the app shows now.",
  appUsed: "That code has already been used. Wait for the app to show the next one.",
  noApp: "Your account has no authenticator app. Use another way to sign in.",
  recoveryMalformed: "Enter one of your recovery codes, such as abcde-fghij.",
  recoveryWrong: "That recovery code is not right, or it was replaced by a newer set.",
  recoveryUsed: "That recovery code has already been used. Each one works once.",
  noRecovery: "Your account has no recovery codes left. Use another way to sign in, or ask your retail IT team.",
  tooMany: "Too many wrong codes.",
  passwordNeeded: "Enter your password to change your sign-in factors (you have not confirmed a code in the last 15 minutes).",
  passwordWrong: "The password is not right. Check it and try again.",
  appExists: "You already have an authenticator app. Remove it first to set up another.",
  noPendingApp: "Start the setup again: no authenticator app is waiting for its first code.",
  noStrongFactor: "Set up an authenticator app or a passkey first: recovery codes are their backup.",
  appConfirmed: "Your authenticator app is set up. Keep these recovery codes somewhere safe.",
  appRemoved: "The authenticator app was removed. Its codes no longer work.",
  setupCancelled: "The authenticator app setup was cancelled.",
  codesRenewed: "A new set of recovery codes was made. The old ones no longer work.",
} as const;

/** How many recovery codes are left, in words. */
export function codesLeftText(left: number): string {
  return left === 0 ? "none" : `${left}`;
}

/** To the OTP email when a recovery code was used (issue 13): which account, when, how many remain. */
export function recoveryCodeUsedMail(c: { loginId: string; at: number; timezone: string; supportEmail: string; left: number }) {
  const when = `${formatTime(c.at, c.timezone)} on ${formatDate(c.at, c.timezone)}`;
  const remain =
    c.left === 0
      ? "You have no recovery codes left: sign in and use “Generate new recovery codes” on Profile."
      : `You have ${c.left} recovery ${c.left === 1 ? "code" : "codes"} left. Each works once; “Generate new recovery codes” on Profile makes a new set.`;
  return noticeMail("A FAMOS recovery code was used", [
    `A recovery code was used to sign in to the FAMOS login ID ${c.loginId} at ${when}.`,
    remain,
    `If this was not you, someone knows your password and has one of your recovery codes: write to your retail IT team at ${c.supportEmail} at once.`,
  ]);
}

/** To the OTP email when support removed the user's second factors (issue 13). */
export function factorsRemovedMail(c: { loginId: string; at: number; timezone: string; supportEmail: string }) {
  const when = `${formatTime(c.at, c.timezone)} on ${formatDate(c.at, c.timezone)}`;
  return noticeMail("Your FAMOS passkeys and authenticator app were removed", [
    `Your retail IT team removed the passkeys, the authenticator app and the recovery codes of the FAMOS login ID ${c.loginId} at ${when}, and signed you out everywhere.`,
    "At your next sign-in FAMOS sends a code to this address, and may ask you to set up an authenticator app or a passkey again.",
    `If you did not ask for this, write to your retail IT team at ${c.supportEmail} at once.`,
  ]);
}

export const REMOVAL_TEXT = {
  done: "The user's passkeys, authenticator app and recovery codes were removed, and the user was signed out everywhere.",
  nothing: "The user had no passkeys, authenticator app or recovery codes; nothing was removed.",
} as const;
