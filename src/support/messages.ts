import type { Translator } from "../i18n/translator.ts";
import { noticeMail, zonedWhen } from "../otp/messages.ts";

/** To the address that was reset: the request is confirmed, and what to do if it was not theirs. */
export function resetMail(c: { loginId: string; ticket: string; at: number; supportEmail: string; t: Translator }) {
  const { t } = c;
  return noticeMail(
    t.text("mail.emailReset.subject"),
    [
      t.text("mail.emailReset.p1", { loginId: c.loginId, when: zonedWhen(t, c.at), ticket: c.ticket }),
      t.text("mail.emailReset.p2", { screen: t.text("enrol.heading") }),
      t.text("mail.notAskedWrite", { support: c.supportEmail }),
    ],
    t,
  );
}
