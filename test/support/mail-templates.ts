import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import type { composeMessage } from "../../src/mail/transport.ts";
import { codeMail, noticeMail } from "../../src/otp/messages.ts";

/** Every mail template in every language, as the outbox holds them (test/mail/compose.unit, quoted-printable.unit). */
const AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SENT = Date.UTC(2026, 10, 28, 14, 0, 0);

export type Message = NonNullable<Parameters<typeof composeMessage>[0]>;
const message = (mail: { subject: string; text: string; html: string }): Message => ({ recipient: "dealer@dealer.test", subject: mail.subject, text_body: mail.text, html_body: mail.html, message_id: "<aBcD1234efgh@famos.test>" });

/** Every template in every language: the code mail for each purpose, and a notice mail. */
export const TEMPLATES = LOCALES.flatMap((locale) => [
  ...(["signin", "enrol", "email-change", "password-reset"] as const).map((purpose) => ({
    name: `${locale} code mail (${purpose})`,
    message: message(codeMail({ code: "123456", loginId: "jörg.müller=<&>", purpose, ttlMs: 15 * 60_000, expiresAt: SENT + 15 * 60_000, timezone: "Europe/Berlin", supportEmail: "retailit@famos.test", requestedBy: { ip: "203.0.113.7", userAgent: AGENT }, locale })),
  })),
  { name: `${locale} notice mail`, message: message(noticeMail(translator(locale, "Europe/Berlin").text("mail.doctorTest.subject"), [translator(locale, "Europe/Berlin").text("mail.doctorTest.body"), "Zweite Zeile — ça va? = ok"], translator(locale, "Europe/Berlin"))) },
]);

