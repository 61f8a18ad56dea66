import { showHiddenCharacters } from "../users/fields.ts";
import { noticeMail, noticeWhen as when, zonedWhen, type NoticeContext } from "../otp/messages.ts";

/**
 * What issue 13's flows say, in English: routes pass these on, and pages show them in the reader's
 * language through the catalogue's "said.strong.*" messages (issue 16). The screens' own words are
 * catalogue keys "strong.*"; the mails below are the recipient's language.
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

/** To the OTP email when a recovery code was used (issue 13): which account, when, how many remain. */
export function recoveryCodeUsedMail(c: NoticeContext & { left: number }) {
  const { t } = c;
  return noticeMail(
    t.text("mail.recoveryCodeUsed.subject"),
    [
      t.text("mail.recoveryCodeUsed.p1", { loginId: c.loginId, when: when(c) }),
      c.left === 0 ? t.text("mail.recoveryCodeUsed.none") : t.text("mail.recoveryCodeUsed.left", { count: c.left }),
      t.text("mail.recoveryCodeUsed.notYou", { support: c.supportEmail }),
    ],
    t,
  );
}

/**
 * To the OTP email when an authenticator-app or recovery code that was already used is entered again
 * (ASVS 2.8.5: a reused time-based code is logged and refused, and its holder told).
 */
export function codeReusedMail(c: NoticeContext & { factor: "app" | "recovery" }) {
  const { t } = c;
  return noticeMail(
    t.text("mail.codeReused.subject"),
    [t.text("mail.codeReused.p1", { factor: c.factor, loginId: c.loginId, when: when(c) }), t.text("mail.codeReused.notYou", { support: c.supportEmail })],
    t,
  );
}

/** To the OTP email when support removed the user's second factors (issue 13). */
export function factorsRemovedMail(c: NoticeContext) {
  const { t } = c;
  return noticeMail(
    t.text("mail.factorsRemoved.subject"),
    [
      t.text("mail.factorsRemoved.p1", { loginId: c.loginId, when: when(c) }),
      t.text("mail.factorsRemoved.p2"),
      t.text("mail.factorsRemoved.notYou", { support: c.supportEmail }),
    ],
    t,
  );
}

export const REMOVAL_TEXT = {
  done: "The user's passkeys, authenticator app and recovery codes were removed, and the user was signed out everywhere.",
  nothing: "The user had no passkeys, authenticator app or recovery codes; nothing was removed.",
} as const;

/** What changed among the user's own second factors (factorChangedMail, tellFactorChange). */
export type FactorChange =
  | { what: "passkey-added" | "passkey-removed"; name: string }
  | { what: "app-added" | "app-removed" | "recovery-codes-renewed" };

const FACTOR_CHANGE_KEY = {
  "passkey-added": "mail.factorChanged.passkeyAdded",
  "passkey-removed": "mail.factorChanged.passkeyRemoved",
  "app-added": "mail.factorChanged.appAdded",
  "app-removed": "mail.factorChanged.appRemoved",
  "recovery-codes-renewed": "mail.factorChanged.codesRenewed",
} as const;

/** To the OTP email when the user's passkeys, authenticator app or recovery codes changed on Profile (ASVS 2.5.5). */
export function factorChangedMail(c: NoticeContext & { change: FactorChange; unmailedUntil?: number | undefined }) {
  const { t } = c;
  // A name stored before checkName refused hidden characters must not reorder or hide the mail's words.
  const name = "name" in c.change ? showHiddenCharacters(c.change.name) : "";
  return noticeMail(
    t.text("mail.factorChanged.subject"),
    [
      t.text(FACTOR_CHANGE_KEY[c.change.what], { name, loginId: c.loginId, when: when(c) }),
      // The last of the rolling hour's notices: to the second, since that is when the cap frees a place.
      ...(c.unmailedUntil === undefined ? [] : [t.text("mail.factorChanged.lastUntil", { when: zonedWhen(t, c.unmailedUntil, true) })]),
      t.text("mail.factorChanged.notYou", { support: c.supportEmail }),
    ],
    t,
  );
}
