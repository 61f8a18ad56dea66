import { afterAll, describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { codeMail, type NoticeContext } from "../../src/otp/messages.ts";
import { emailChangedMail, passwordChangedMail } from "../../src/profile/messages.ts";
import { codeReusedMail, factorsRemovedMail, recoveryCodeUsedMail } from "../../src/strong-factors/messages.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

const SENT = Date.UTC(2026, 10, 28, 14, 0, 0); // 28/11/2026 14:00 UTC (GMT in London)

function mail(ttlMs: number, timezone: string) {
  return codeMail({ code: "123456", loginId: "j.smith", purpose: "signin", ttlMs, expiresAt: SENT + ttlMs, timezone, supportEmail: "retailit@famos.test" });
}

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

  it("says the validity from the setting: 90 seconds, 1 hour", () => {
    expect(mail(90_000, "Europe/London").text).toContain("valid for 90 seconds, until 14:01");
    expect(mail(3_600_000, "Asia/Tokyo").text).toContain("valid for 1 hour, until 00:00 on 29/11/2026 (Japan Standard Time)");
  });

  it("names the zone as people say it: UK time, a generic name, else the offset from UTC", () => {
    expect(mail(15 * 60_000, "Europe/London").text).toContain("(UK time)");
    expect(mail(15 * 60_000, "Europe/London").text).not.toContain("Europe/London");
    expect(mail(15 * 60_000, "Etc/GMT-3").text).toContain("(UTC+3)");
    expect(mail(15 * 60_000, "UTC").text).toContain("(UTC)");
  });

  it("has no hard line breaks inside sentences in the text part: one line per paragraph", () => {
    const { text } = mail(15 * 60_000, "Europe/London");
    const lines = text.split("\n").filter((line) => line !== "");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line, line).toMatch(/([.:!?]|\d{6})$/);
    expect(text).toContain("change it on the Profile tab or ask your retail IT team");
  });

  it("says which browser and address asked for the code", () => {
    const agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const asked = codeMail({
      code: "123456", loginId: "j.smith", purpose: "signin", ttlMs: 60_000, expiresAt: SENT, timezone: "Europe/London",
      supportEmail: "retailit@famos.test", requestedBy: { ip: "203.0.113.7", userAgent: agent },
    });
    for (const part of [asked.text, asked.html]) expect(part).toContain("from Chrome on Windows at the address 203.0.113.7");
  });

  it("has an HTML part of tables with inline styles and no style sheet", () => {
    const { html } = mail(15 * 60_000, "Europe/London");
    expect(html).toMatch(/<table role="presentation"/);
    expect(html).toMatch(/<td style="[^"]+">123456<\/td>/);
    expect(html).not.toMatch(/<style|<link|class=/);
  });

  it("holds no link to click for the code", () => {
    const { html } = mail(15 * 60_000, "Europe/London");
    expect(html).not.toMatch(/<a\s/i);
  });

  describe("sent by a running FAMOS with FAMOS_OTP_TTL=90s and FAMOS_TIMEZONE=Asia/Tokyo", () => {
    let t: TestApp;
    afterAll(async () => t?.close());

    it("arrives with 'valid for 90 seconds' and the end time in Tokyo", async () => {
      t = await createTestApp({ env: { FAMOS_OTP_TTL: "90s", FAMOS_TIMEZONE: "Asia/Tokyo" }, clock: new FixedClock(SENT) });
      const user = await addUser(t.deps, { email: "tokyo@dealer.example" });
      expect((await submitPassword(new FormClient(t.app), user.login_id, user.password)).headers.location).toBe("/otp");
      const received = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("tokyo@dealer.example"));
      // 14:00:00 UTC + 90 s = 23:01:30 in Tokyo (UTC+9).
      expect(received.text).toContain("valid for 90 seconds, until 23:01 on 28/11/2026 (Japan Standard Time)");
      expect(received.html).toContain("valid for 90 seconds");
    });
  });
});

describe("notice mails say when it happened, in the reader's language and zone", () => {
  const at = SENT; // 14:00 UTC
  const notices = [
    ["address changed", (c: NoticeContext) => emailChangedMail({ ...c, newEmail: "new@dealer.test" })],
    ["password changed", passwordChangedMail],
    ["recovery code used", (c: NoticeContext) => recoveryCodeUsedMail({ ...c, left: 3 })],
    ["code reused", (c: NoticeContext) => codeReusedMail({ ...c, factor: "app" })],
    ["factors removed", factorsRemovedMail],
  ] as const;

  for (const [what, build] of notices) {
    it(`${what}: the local time and date, in both parts`, () => {
      const de = build({ loginId: "j.smith", at, supportEmail: "retailit@famos.test", t: translator("de", "Europe/Berlin") });
      const uk = build({ loginId: "j.smith", at, supportEmail: "retailit@famos.test", t: translator("en-GB", "Europe/London") });
      for (const part of [de.text, de.html]) expect(part).toContain("15:00 Uhr am 28.11.2026");
      for (const part of [uk.text, uk.html]) expect(part).toContain("14:00 on 28/11/2026");
    });
  }
});
