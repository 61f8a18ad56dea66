import { simpleParser, type ParsedMail } from "mailparser";
import MailComposer from "nodemailer/lib/mail-composer";
import { describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { composeMessage, mailLanguage } from "../../src/mail/transport.ts";
import { codeMail } from "../../src/otp/messages.ts";
import { TEMPLATES } from "../support/mail-templates.ts";

const SENT = Date.UTC(2026, 10, 28, 14, 0, 0);
const FROM = "FAMOS <noreply@famos.test>";
const AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

type Message = Parameters<typeof composeMessage>[0];

/** The message as nodemailer's own composer writes it from the same fields (what the transport sent before issue 17). */
async function composedByNodemailer(message: Message, from: string, date: Date): Promise<ParsedMail> {
  // The headers the transport gives nodemailer's composer on its own path (an internationalised address).
  const language = mailLanguage(message.html_body);
  const headers = language ? { "Content-Language": language } : {};
  const node = new MailComposer({ from, to: message.recipient, subject: message.subject, text: message.text_body, html: message.html_body, messageId: message.message_id, date, headers }).compile();
  return simpleParser(await node.build());
}

/** What a reader (and a mail client) sees of a message: every field the code mail has. */
function seen(mail: ParsedMail) {
  return {
    from: mail.from?.value,
    to: Array.isArray(mail.to) ? mail.to.flatMap((a) => a.value) : mail.to?.value,
    subject: mail.subject,
    messageId: mail.messageId,
    date: mail.date?.toISOString(),
    text: mail.text,
    html: mail.html,
    contentType: mail.headers.get("content-type") && (mail.headers.get("content-type") as { value: string }).value,
    mimeVersion: mail.headers.get("mime-version"),
    contentLanguage: mail.headers.get("content-language"),
    attachments: mail.attachments.length,
  };
}

function codeMessage(locale: (typeof LOCALES)[number], loginId = "j.smith"): Message {
  const mail = codeMail({ code: "123456", loginId, purpose: "signin", ttlMs: 15 * 60_000, expiresAt: SENT + 15 * 60_000, timezone: "Europe/Berlin", supportEmail: "retailit@famos.test", requestedBy: { ip: "203.0.113.7", userAgent: AGENT }, locale });
  return { recipient: "dealer@dealer.test", subject: mail.subject, text_body: mail.text, html_body: mail.html, message_id: "<aBcD1234efgh@famos.test>" };
}

describe("composeMessage: the code mail written in one pass reads, once parsed, exactly as nodemailer's composer wrote it", () => {
  for (const locale of LOCALES) {
    it(`in ${locale}: addresses, subject (RFC 2047 when not ASCII), Message-ID, Date, both parts of multipart/alternative`, async () => {
      const message = codeMessage(locale, "jörg.müller=<&>");
      const date = new Date(SENT);
      const ours = await simpleParser(composeMessage(message, FROM, date)!);
      expect(seen(ours)).toEqual(seen(await composedByNodemailer(message, FROM, date)));
      expect(seen(ours).contentType).toBe("multipart/alternative");
      expect(seen(ours).contentLanguage).toBe(locale);
      expect(ours.text).toContain("123456");
    });
  }

  // Every template in every language (each purpose's code mail, a notice), a second time each: the
  // subject line is kept after the first (issue 17) and must read the same then.
  for (const { name, message } of TEMPLATES) {
    it(`${name}: reads as nodemailer's composer wrote it, the first time and the second`, async () => {
      const date = new Date(SENT);
      const expected = seen(await composedByNodemailer(message, FROM, date));
      for (let time = 0; time < 2; time++) expect(seen(await simpleParser(composeMessage(message, FROM, date)!))).toEqual(expected);
    });
  }

  for (const [what, subject] of [
    ["a long subject mostly in Latin letters (Q encoding)", `Ihr Einmalkennwort für FAMOS — ${"Prüfung größer ".repeat(8)}`],
    ["a subject mostly in another script (B encoding)", "ФАМОС: ваш одноразовый код — 一次性密码"],
    ["a subject with control characters", "Code\u0007\u0000 here"],
  ] as const) {
    it(`encodes ${what} as nodemailer does, into folded encoded words that read back whole`, async () => {
      const message = { ...codeMessage("de"), subject };
      const date = new Date(SENT);
      const raw = composeMessage(message, FROM, date)!;
      const header = raw.slice(0, raw.indexOf("\r\n\r\n"));
      expect(header).toMatch(/^Subject: =\?UTF-8\?[QB]\?/m);
      for (const line of header.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
      const ours = await simpleParser(raw);
      expect(seen(ours)).toEqual(seen(await composedByNodemailer(message, FROM, date)));
    });
  }

  // enqueueMail refuses such a subject; the composer must not depend on that (defence in depth).
  it("cannot be made to carry another header: a line break in the subject becomes a space, as in nodemailer", async () => {
    const message = { ...codeMessage("en-GB"), subject: "Hello\r\nBcc: victim@evil.test\r\n\r\nforged body" };
    const date = new Date(SENT);
    const raw = composeMessage(message, FROM, date)!;
    const parsed = await simpleParser(raw);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.headers.has("bcc")).toBe(false);
    expect(parsed.subject).toBe("Hello Bcc: victim@evil.test  forged body");
    expect(parsed.text).toContain("123456");
    expect(seen(parsed)).toEqual(seen(await composedByNodemailer(message, FROM, date)));
  });

  it("leaves internationalised addresses to nodemailer's composer (returns null)", () => {
    expect(composeMessage({ ...codeMessage("de"), recipient: "jörg@dealer.test" }, FROM, new Date(SENT))).toBeNull();
    expect(composeMessage(codeMessage("de"), "FAMOS Zürich <noreply@famos.test>", new Date(SENT))).toBeNull();
  });
});
