import { describe, expect, it } from "vitest";
import { codeMail, noticeMail } from "../../src/otp/messages.ts";

const SENT = Date.UTC(2026, 10, 28, 14, 0, 0);
const mail = (purpose: "signin" | "enrol" | "email-change") =>
  codeMail({ code: "042042", loginId: "j.smith", purpose, ttlMs: 15 * 60_000, expiresAt: SENT + 15 * 60_000, timezone: "Europe/London", supportEmail: "retailit@famos.test" });

/** SPEC item 3, word for word: what the code mail says, in text and in HTML (the rest: messages.test.ts). */
describe("the OTP email, word for word (unit tier)", () => {
  it("says the code, why it was asked for, until when it works, and what to do if it was not you", () => {
    expect(mail("signin").text).toBe(
      [
        "Your FAMOS one time passcode is: 042042",
        "",
        "It was requested to sign in to FAMOS with the login ID j.smith.",
        "The code is valid for 15 minutes, until 14:15 on 28/11/2026 (Europe/London). Type it on the OTP capture screen; it works once.",
        "",
        "If you did not try to sign in to FAMOS, do not give this code to anyone and ignore this email:",
        "without the code nobody can sign in. Someone may know your password, so change it on the Profile",
        "tab or ask your retail IT team (retailit@famos.test) for help.",
        "",
        "FAMOS will never ask you for this code by phone or email.",
      ].join("\n"),
    );
  });

  it.each([
    ["signin", "to sign in to FAMOS"],
    ["enrol", "to confirm this address for your FAMOS one time passcodes"],
    ["email-change", "to make this address the one that receives your FAMOS one time passcodes"],
  ] as const)("names the purpose %s in text and HTML", (purpose, words) => {
    const { subject, text, html } = mail(purpose);
    expect(subject).toBe("Your FAMOS one time passcode");
    expect(text).toContain(`It was requested ${words} with the login ID j.smith.`);
    expect(html).toContain(`<p>It was requested ${words} with the login ID <strong>j.smith</strong>.</p>`);
  });

  it("says the same in HTML, the code large, escaped, with no link", () => {
    const { html } = mail("signin");
    expect(html.startsWith('<!doctype html>\n<html lang="en"><body style="font-family: Arial, sans-serif; color: #1a1a1a">\n<p>Your FAMOS one time passcode is:</p>')).toBe(true);
    expect(html).toContain('<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px">042042</p>');
    expect(html).toContain("<p>The code is valid for 15 minutes, until 14:15 on 28/11/2026 (Europe/London). Type it on the OTP capture screen; it works once.</p>");
    expect(html).toContain("<p>If you did not try to sign in to FAMOS, do not give this code to anyone and ignore this email:\nwithout the code nobody can sign in. Someone may know your password, so change it on the Profile tab\nor ask your retail IT team (retailit@famos.test) for help.</p>");
    expect(html).toContain("<p>FAMOS will never ask you for this code by phone or email.</p>\n</body></html>");
    expect(codeMail({ ...{ code: "1", purpose: "signin", ttlMs: 1000, expiresAt: SENT, timezone: "UTC", supportEmail: "a@b" }, loginId: "<b>x</b>" }).html).toContain("&lt;b&gt;x&lt;/b&gt;");
  });

  it("makes a notice mail: paragraphs apart in text, one <p> each in HTML, escaped", () => {
    const notice = noticeMail("Sign-in paused", ["First <one>.", "Second."]);
    expect(notice).toEqual({
      subject: "Sign-in paused",
      text: "First <one>.\n\nSecond.",
      html: '<!doctype html>\n<html lang="en"><body style="font-family: Arial, sans-serif; color: #1a1a1a">\n<p>First &lt;one&gt;.</p><p>Second.</p>\n</body></html>',
    });
  });
});
