import { noticeMail, noticeWhen as when, type NoticeContext } from "../otp/messages.ts";
import { maskEmail } from "../platform/format.ts";

/** To the old address once the new one is confirmed (SPEC item 6: "the old address is told of the change"). */
export function emailChangedMail(c: NoticeContext & { newEmail: string }) {
  const { t } = c;
  return noticeMail(
    t.text("mail.emailChanged.subject"),
    [
      t.text("mail.emailChanged.p1", { loginId: c.loginId, when: when(c), masked: maskEmail(c.newEmail) }),
      t.text("mail.emailChanged.p2"),
      t.text("mail.emailChanged.p3", { support: c.supportEmail, subject: t.text("wrongEmail.subject") }),
    ],
    t,
  );
}

/** To the OTP email after a password change on Profile. */
export function passwordChangedMail(c: NoticeContext) {
  const { t } = c;
  return noticeMail(
    t.text("mail.passwordChanged.subject"),
    [t.text("mail.passwordChanged.p1", { loginId: c.loginId, when: when(c) }), t.text("mail.notYouWrite", { support: c.supportEmail })],
    t,
  );
}
