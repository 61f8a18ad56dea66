import type { Translator } from "../i18n/translator.ts";
import { noticeMail, zonedWhen as when } from "../otp/messages.ts";

interface Context {
  loginId: string;
  at: number;
  supportEmail: string;
  /** The recipient's language and time zone (issue 16). */
  t: Translator;
}

/** To the OTP email when support sets a temporary password. The password itself is never mailed. */
export function temporaryPasswordMail(c: Context & { until: number }) {
  const { t } = c;
  return noticeMail(
    t.text("mail.temporaryPassword.subject"),
    [
      t.text("mail.temporaryPassword.p1", { loginId: c.loginId, when: when(t, c.at), until: when(t, c.until) }),
      t.text("mail.allSignedOut"),
      t.text("mail.notAskedWrite", { support: c.supportEmail }),
    ],
    t,
  );
}

/**
 * To the OTP email when `famos user import --update` replaces the password hash: the retail IT team
 * set it (not Profile's "was changed", which reads as the user's own doing). Every session ended.
 */
export function importedPasswordMail(c: Context) {
  const { t } = c;
  return noticeMail(
    t.text("mail.passwordImported.subject"),
    [t.text("mail.passwordImported.p1", { loginId: c.loginId, when: when(t, c.at) }), t.text("mail.allSignedOut"), t.text("mail.notAskedWrite", { support: c.supportEmail })],
    t,
  );
}

/** To the OTP email after a self-service reset (FAMOS_PASSWORD_RESET=self). */
export function passwordResetMail(c: Context) {
  const { t } = c;
  return noticeMail(
    t.text("mail.passwordReset.subject"),
    [t.text("mail.passwordReset.p1", { loginId: c.loginId, when: when(t, c.at) }), t.text("mail.passwordReset.p2", { support: c.supportEmail })],
    t,
  );
}

/** What a disable ended, counted (account/disable.ts). */
export interface DisableCounts {
  sessionsEnded: number;
  codesVoided: number;
}

/**
 * "1 session ended, 2 pending codes voided": the one wording of a disable's result, for the command
 * line and the console alike. Pending codes are named only when some were voided.
 */
export function disableEndedText(t: Translator, counts: DisableCounts): string {
  return t.text("account.disabled.ended", { sessions: counts.sessionsEnded, codes: counts.codesVoided });
}
