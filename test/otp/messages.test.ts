import { afterAll, describe, expect, it } from "vitest";
import { FixedClock } from "../../src/platform/clock.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

const SENT = Date.UTC(2026, 10, 28, 14, 0, 0); // 28/11/2026 14:00 UTC

/** The OTP email as it leaves a running FAMOS over SMTP; what the mail says is in messages.unit.test.ts. */
describe("the OTP email (SPEC item 3), sent by a running FAMOS with FAMOS_OTP_TTL=90s and FAMOS_TIMEZONE=Asia/Tokyo", () => {
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
