import type { Config } from "../config/config.ts";
import { userTranslator, type Translator } from "../i18n/translator.ts";
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
 * Why the announcement cannot name the portal, or null when it can. It tells every user where to sign
 * in, FAMOS_PUBLIC_URL; without that setting FAMOS knows only its own default (http://localhost:3000,
 * true for a browser on the server alone), which would send thousands of staff to their own PCs in a
 * mail that is never sent twice.
 */
export function portalUnknown(config: Readonly<Config>): string | null {
  if (config.publicUrlExplicit) return null;
  return `FAMOS_PUBLIC_URL is not set: the announcement would tell everyone to sign in at ${config.publicUrl.origin}`;
}

/**
 * A real run is refused for it in production only. In development mode the default is SPEC's own
 * (`http://localhost:<port>`, a server and its users on one machine): the command warns and mails.
 */
export function portalRefused(config: Readonly<Config>, dryRun: boolean): string | null {
  return dryRun || !config.production ? null : portalUnknown(config);
}

/**
 * The announcement, shaped by the guide the dealers know (seed/famos-2fa-guide.txt): the usual log
 * on credentials, then "User profile" once, then a code by email on every sign-in; how to set the
 * address early; what to do about a wrong address. No link to click for a code, ever.
 */
export function announcementMail(
  config: Readonly<Config>,
  input: AnnouncementInput,
  /** The recipient's language and zone (issue 16); FAMOS_DEFAULT_LOCALE and FAMOS_TIMEZONE by default. */
  t: Translator = userTranslator(config, undefined),
): { subject: string; text: string; html: string } {
  const future = input.startsAt !== null && input.startsAt > input.now;
  const portal = config.publicUrl.origin;
  const subject = future ? t.text("mail.announce.subjectStarts", { date: t.date(input.startsAt!) }) : t.text("mail.announce.subjectOn");
  return noticeMail(
    subject,
    [
      t.text("mail.announce.dear", { name: input.fullName }),
      future
        ? t.text("mail.announce.from", { when: t.dateTime(input.startsAt!), zone: t.zone(input.startsAt!), loginId: input.loginId })
        : t.text("mail.announce.now", { loginId: input.loginId }),
      t.text("mail.announce.firstLogIn", { screen: t.text("enrol.heading") }),
      future ? t.text("mail.announce.setNow", { portal, link: t.text("rollout.bannerLink") }) : t.text("mail.announce.setAtSignIn", { portal }),
      t.text("mail.announce.arrives", { validity: t.duration(config.otp.ttlMs), screen: t.text("otp.heading") }),
      t.text("mail.announce.wrongAddress", {
        support: config.supportEmail,
        subject: t.text("wrongEmail.subject"),
        name: t.text("wrongEmail.mailName"),
        loginIdLine: t.text("wrongEmail.mailLoginId"),
        partnerLine: t.text("wrongEmail.mailPartner"),
        partner: input.partnerNumber,
      }),
    ],
    t,
  );
}
