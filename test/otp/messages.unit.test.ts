import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { codeMail, noticeMail, OTP_SUBJECT, type NoticeContext } from "../../src/otp/messages.ts";
import { emailChangedMail, passwordChangedMail } from "../../src/profile/messages.ts";
import { codeReusedMail, factorChangedMail, factorsRemovedMail, recoveryCodeUsedMail } from "../../src/strong-factors/messages.ts";
import { importedPasswordMail, passwordResetMail, temporaryPasswordMail } from "../../src/account/messages.ts";
import { resetMail } from "../../src/support/messages.ts";

const SENT = Date.UTC(2026, 10, 28, 14, 0, 0); // 28/11/2026 14:00 UTC (GMT in London)

function mail(ttlMs: number, timezone: string) {
  return codeMail({ code: "123456", loginId: "j.smith", purpose: "signin", ttlMs, expiresAt: SENT + ttlMs, timezone, supportEmail: "retailit@famos.test" });
}

/** The inline style of the innermost table cell holding `text` in an HTML part. */
function cellStyle(part: string, text: string): string {
  const at = part.indexOf(text);
  if (at < 0) throw new Error(`"${text}" is not in the HTML part`);
  const cell = part.lastIndexOf('<td style="', at);
  return part.slice(cell + '<td style="'.length, part.indexOf('"', cell + '<td style="'.length));
}

/** The readable type every text cell of the code mail's HTML part starts with. */
const READABLE = "font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; font-size: 15px; line-height: 1.5";
const PARAGRAPH = `${READABLE}; padding: 0 24px 16px 24px`;

describe("the OTP email (SPEC item 3)", () => {
  it("says the code is valid for 15 minutes and until when, in FAMOS_TIMEZONE", () => {
    const london = mail(15 * 60_000, "Europe/London");
    expect(london.subject).toBe("Your FAMOS one time passcode");
    for (const part of [london.text, london.html]) {
      expect(part).toContain("123456");
      expect(part).toContain("valid for 15 minutes, until 14:15 on 28/11/2026 (UK time)");
      expect(part).toContain("j.smith");
      expect(part).toContain("If you did not try to sign in to FAMOS");
    }
    expect(mail(15 * 60_000, "America/New_York").text).toContain("valid for 15 minutes, until 09:15 on 28/11/2026 (Eastern Time)");
  });

  it("has SPEC's subject in English, the one OTP_SUBJECT names", () => {
    expect(OTP_SUBJECT).toBe("Your FAMOS one time passcode");
    expect(mail(15 * 60_000, "Europe/London").subject).toBe(OTP_SUBJECT);
  });

  it("says the validity from the setting: 90 seconds, 1 hour", () => {
    expect(mail(90_000, "Europe/London").text).toContain("valid for 90 seconds, until 14:01");
    expect(mail(3_600_000, "Asia/Tokyo").text).toContain("valid for 1 hour, until 00:00 on 29/11/2026 (Japan Standard Time)");
  });

  it("names the zone as people say it: UK time, a generic name, else the offset from UTC", () => {
    expect(mail(15 * 60_000, "Europe/London").text).toContain("(UK time)");
    expect(mail(15 * 60_000, "Europe/London").text).not.toContain("Europe/London");
    expect(mail(15 * 60_000, "Etc/GMT-3").text).toContain("(UTC+03:00)");
    expect(mail(15 * 60_000, "UTC").text).toContain("(UTC)");
  });

  it("has no hard line breaks inside sentences in the text part: one line per paragraph", () => {
    const { text } = mail(15 * 60_000, "Europe/London");
    const lines = text.split("\n").filter((line) => line !== "");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line, line).toMatch(/([.:!?]|\d{6})$/);
    expect(text).toContain("change it on the Profile tab or ask your retail IT team");
  });

  it("parts the text's five paragraphs by one blank line each: the code, who asked, how long, if not you, never share", () => {
    const paragraphs = mail(15 * 60_000, "Europe/London").text.split("\n\n");
    expect(paragraphs).toHaveLength(5);
    expect(paragraphs[0]).toBe("Your FAMOS one time passcode is: 123456");
    expect(paragraphs[1]).toContain("login ID j.smith");
    expect(paragraphs[2]).toContain("valid for 15 minutes");
    expect(paragraphs[3]).toMatch(/^If you did not try to sign in to FAMOS/);
    expect(paragraphs[4]).toMatch(/never ask you for this code/);
    for (const p of paragraphs) expect(p).not.toContain("\n");
  });

  it("a password-reset code says where to type it and what to do if you did not ask, in each language: not OTP capture, not 'someone may know your password'", () => {
    const reset = (locale: Parameters<typeof codeMail>[0]["locale"]) =>
      codeMail({ code: "123456", loginId: "j.smith", purpose: "password-reset", ttlMs: 15 * 60_000, expiresAt: SENT, timezone: "Europe/London", supportEmail: "retailit@famos.test", locale });
    const english = reset("en-GB");
    for (const part of [english.text, english.html]) {
      expect(part).toContain("Type it on the “Reset your password” page; it works once.");
      expect(part).toContain("If you did not ask to reset your FAMOS password, ignore this email and do not give this code to anyone: without it nobody can change your password.");
      expect(part).not.toContain("OTP capture");
      expect(part).not.toContain("may know your password");
    }
    // Every language names its own reset page (its heading) and says the same, not its sign-in words.
    for (const locale of ["de", "fr", "it", "es", "nl"] as const) {
      const t = translator(locale, "Europe/London");
      const { text } = reset(locale);
      expect(text, locale).toContain(t.text("reset.heading"));
      expect(text, locale).not.toContain(t.text("mail.code.notYou", { support: "retailit@famos.test" }));
      expect(text, locale).not.toContain(t.text("otp.heading"));
    }
    // Signing in keeps its words.
    expect(mail(15 * 60_000, "Europe/London").text).toContain("Type it on the OTP capture screen; it works once.");
  });

  it("an email-change code says to type it on the page that asks for it, “Confirm your new OTP email”, in each language", () => {
    for (const locale of ["en-GB", "de", "fr", "it", "es", "nl"] as const) {
      const t = translator(locale, "Europe/London");
      const { text } = codeMail({ code: "123456", loginId: "j.smith", purpose: "email-change", ttlMs: 15 * 60_000, expiresAt: SENT, timezone: "Europe/London", supportEmail: "retailit@famos.test", locale });
      expect(text, locale).toContain(t.text("emailConfirm.heading"));
      expect(text, locale).not.toContain(t.text("otp.heading"));
    }
  });

  it("a code sent to a typed address (User profile, a change on Profile) tells a reader who did not ask that someone may have mistyped their address, not that their password may be known, in each language", () => {
    // The address was typed by the one signing in; its holder may be anyone (a colleague, a stranger).
    for (const purpose of ["enrol", "email-change"] as const) {
      for (const locale of ["en-GB", "de", "fr", "it", "es", "nl"] as const) {
        const t = translator(locale, "Europe/London");
        const mailed = codeMail({ code: "123456", loginId: "j.smith", purpose, ttlMs: 15 * 60_000, expiresAt: SENT, timezone: "Europe/London", supportEmail: "retailit@famos.test", locale });
        expect(mailed.text, `${purpose} ${locale}`).not.toContain(t.text("mail.code.notYou", { support: "retailit@famos.test" }));
        expect(mailed.text, `${purpose} ${locale}`).not.toContain(t.text("profile.heading"));
      }
    }
    const english = codeMail({ code: "123456", loginId: "j.smith", purpose: "enrol", ttlMs: 15 * 60_000, expiresAt: SENT, timezone: "Europe/London", supportEmail: "retailit@famos.test" });
    for (const part of [english.text, english.html]) {
      expect(part).toContain("someone may have typed your address by mistake");
      expect(part).not.toContain("may know your password");
    }
    // Signing in keeps its words.
    expect(mail(15 * 60_000, "Europe/London").text).toContain("Someone may know your password");
  });

  it("says which browser and address asked for the code", () => {
    const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const asked = codeMail({
      code: "123456", loginId: "j.smith", purpose: "signin", ttlMs: 60_000, expiresAt: SENT, timezone: "Europe/London",
      supportEmail: "retailit@famos.test", requestedBy: { ip: "203.0.113.7", userAgent: agent },
    });
    for (const part of [asked.text, asked.html]) expect(part).toContain("from Chrome on Windows at the address 203.0.113.7");
  });

  it("names each mail's own browser, also when the same language and zone's mails are kept rendered", () => {
    const base = { code: "123456", loginId: "j.smith", purpose: "signin" as const, ttlMs: 60_000, expiresAt: SENT, timezone: "Europe/London", supportEmail: "browsers@famos.test" };
    const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const first = codeMail({ ...base, requestedBy: { ip: "203.0.113.7", userAgent: chrome } });
    const second = codeMail({ ...base, requestedBy: { ip: "203.0.113.8", userAgent: firefox } });
    expect(first.text).toContain("from Chrome on Windows at the address 203.0.113.7");
    expect(second.text).toContain("from Firefox on Linux at the address 203.0.113.8");
    expect(second.html).not.toContain("Chrome on Windows");
  });

  it("has an HTML part of tables with inline styles and no style sheet", () => {
    const { html } = mail(15 * 60_000, "Europe/London");
    expect(html).toMatch(/<table role="presentation"/);
    expect(html).toMatch(/<td style="[^"]+">123456<\/td>/);
    expect(html).not.toMatch(/<style|<link|class=/);
  });

  it("sets every paragraph of the HTML part in readable type, the login ID in bold, the last two set apart", () => {
    // Its own support address: the mail's fixed parts are rendered here, not taken from another
    // test's (they are kept per language, zone, purpose, validity and support address).
    const { html } = codeMail({ code: "123456", loginId: "j.smith", purpose: "signin", ttlMs: 15 * 60_000, expiresAt: SENT + 15 * 60_000, timezone: "Europe/London", supportEmail: "styles@famos.test" });
    expect(html).toMatch(/^<!doctype html>\n<html lang="en-GB">/);
    expect(html).toContain("<title>Your FAMOS one time passcode</title>");
    expect(html).toContain("the login ID <strong>j.smith</strong>.");
    expect(cellStyle(html, "It was requested to sign in")).toBe(PARAGRAPH);
    expect(cellStyle(html, "The code is valid for 15 minutes")).toBe(PARAGRAPH);
    // "Not you?" below a rule; "never share" smaller and grey.
    expect(cellStyle(html, "If you did not try to sign in to FAMOS")).toBe(`${PARAGRAPH}; border-top: 1px solid #e4e7ec; padding-top: 16px`);
    expect(cellStyle(html, "FAMOS will never ask you for this code")).toBe(`${PARAGRAPH}; color: #475467; font-size: 13px`);
    // Every table and cell it opens is closed: the code's cell, its box, and the page's tables.
    for (const tag of ["table", "tr", "td"]) expect(html.split(`<${tag}`).length, tag).toBe(html.split(`</${tag}>`).length);
  });

  it("renders its unchanging parts once per language, zone, purpose, validity and support address, never another mail's", () => {
    const base = { code: "123456", loginId: "j.smith", purpose: "signin" as const, ttlMs: 15 * 60_000, expiresAt: SENT + 15 * 60_000, timezone: "Europe/London", supportEmail: "retailit@famos.test" };
    const first = codeMail(base);
    const german = codeMail({ ...base, locale: "de", code: "654321" });
    expect(german.html).toContain('<html lang="de">');
    expect(german.html).toMatch(/>654321<\/td>/);
    expect(german.html).not.toContain("123456");
    expect(codeMail({ ...base, purpose: "password-reset" }).text).not.toBe(first.text);
    expect(codeMail({ ...base, ttlMs: 90_000, expiresAt: SENT + 90_000 }).text).toContain("valid for 90 seconds");
    expect(codeMail({ ...base, supportEmail: "help@famos.test" }).html).toContain("help@famos.test");
    expect(codeMail({ ...base, timezone: "Asia/Tokyo" }).text).toContain("(Japan Standard Time)");
    expect(codeMail(base)).toEqual(first);
  });

  it("holds no link to click for the code", () => {
    const { html } = mail(15 * 60_000, "Europe/London");
    expect(html).not.toMatch(/<a\s/i);
  });
});

describe("notice mails", () => {
  it("have a text part of the paragraphs parted by a blank line, and an HTML twin of one <p> each, escaped", () => {
    const notice = noticeMail("Something happened", ["First <one> & all.", "Second."], translator("de", "Europe/Berlin"));
    expect(notice).toEqual({
      subject: "Something happened",
      text: "First <one> & all.\n\nSecond.",
      html: expect.stringContaining("<p>First &lt;one&gt; &amp; all.</p><p>Second.</p>"),
    });
    expect(notice.html).toContain('<html lang="de">');
  });

  it("are marked English when no reader's language is given", () => {
    expect(noticeMail("Subject", ["Text."]).html).toContain('<html lang="en">');
  });

  /**
   * With the zone named, as the code mail's time is: a dealer in Germany reading "changed at 14:00"
   * from a FAMOS kept in UK time could not tell whether that was them an hour ago. "Was it me?" is
   * the one question these mails ask their reader.
   */
  describe("say when it happened, in the reader's language and zone, naming the zone", () => {
    const at = SENT; // 14:00 UTC
    const notices = [
      ["address changed", (c: NoticeContext) => emailChangedMail({ ...c, newEmail: "new@dealer.test" })],
      ["password changed", passwordChangedMail],
      ["recovery code used", (c: NoticeContext) => recoveryCodeUsedMail({ ...c, left: 3 })],
      ["code reused", (c: NoticeContext) => codeReusedMail({ ...c, factor: "app" })],
      ["factors removed", factorsRemovedMail],
      ["a passkey added", (c: NoticeContext) => factorChangedMail({ ...c, change: { what: "passkey-added", name: "Office PC" } })],
      ["OTP email reset by support", (c: NoticeContext) => resetMail({ ...c, ticket: "INC-1" })],
      ["temporary password", (c: NoticeContext) => temporaryPasswordMail({ ...c, until: at + 86_400_000 })],
      ["password imported", importedPasswordMail],
      ["password reset", passwordResetMail],
    ] as const;

    for (const [what, build] of notices) {
      it(`${what}: the local time and date, in both parts`, () => {
        const de = build({ loginId: "j.smith", at, supportEmail: "retailit@famos.test", t: translator("de", "Europe/Berlin") });
        const uk = build({ loginId: "j.smith", at, supportEmail: "retailit@famos.test", t: translator("en-GB", "Europe/London") });
        for (const part of [de.text, de.html]) expect(part).toContain("15:00 Uhr am 28.11.2026 (Mitteleuropäische Zeit)");
        for (const part of [uk.text, uk.html]) expect(part).toContain("14:00 on 28/11/2026 (UK time)");
      });
    }
  });
});
