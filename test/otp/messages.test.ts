import { afterAll, describe, expect, it } from "vitest";
import { codeMail } from "../../src/otp/messages.ts";
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
      expect(part).toContain("valid for 15 minutes, until 14:15 on 28/11/2026 (Europe/London)");
      expect(part).toContain("j.smith");
      expect(part).toContain("If you did not try to sign in to FAMOS");
    }
    expect(mail(15 * 60_000, "America/New_York").text).toContain("valid for 15 minutes, until 09:15 on 28/11/2026 (America/New_York)");
  });

  it("says the validity from the setting: 90 seconds, 1 hour", () => {
    expect(mail(90_000, "Europe/London").text).toContain("valid for 90 seconds, until 14:01");
    expect(mail(3_600_000, "Asia/Tokyo").text).toContain("valid for 1 hour, until 00:00 on 29/11/2026 (Asia/Tokyo)");
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
      expect(received.text).toContain("valid for 90 seconds, until 23:01 on 28/11/2026 (Asia/Tokyo)");
      expect(received.html).toContain("valid for 90 seconds");
    });
  });
});
