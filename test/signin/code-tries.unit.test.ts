import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const SECOND = 1000;
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/**
 * SPEC "Tries" (ASVS 2.8.4, NIST SP 800-63B 5.2.2): FAMOS_OTP_TRIES wrong codes void the code — which
 * is not the login ID's lock. With the lock set beyond the tries, the right code after the last wrong
 * try is refused as void (401, "no longer works"), not as locked (429), and a new code then works.
 */
describe.each<{ tries: number; env: Record<string, string> }>([
  { tries: 5, env: { FAMOS_LOCK_AFTER: "20" } },
  { tries: 3, env: { FAMOS_LOCK_AFTER: "20", FAMOS_OTP_TRIES: "3" } },
])("a code void after FAMOS_OTP_TRIES = $tries wrong tries, the login ID not locked (unit tier)", ({ tries, env }) => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp({ env });
  });
  afterAll(async () => u.close());

  it("refuses the right code as void after the last wrong try, and lets a new code in", async () => {
    const { client, user, code } = await signIn(u, { until: "otp" });
    for (let left = tries - 1; left >= 1; left -= 1) {
      const wrong = await client.post("/otp", { code: otherThan(code!) });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.body).toContain(`You have ${left} ${left === 1 ? "try" : "tries"} left.`);
    }
    const last = await client.post("/otp", { code: otherThan(code!) });
    expect(last.statusCode).toBe(401);
    expect(last.body).toContain("That was the last try: this code no longer works.");

    const right = await client.post("/otp", { code: code! });
    expect(right.statusCode).toBe(401);
    expect(right.body).toContain("This code no longer works. Use Regenerate OTP to get a new one.");
    expect(right.body).not.toContain("Too many wrong codes");
    expect((await client.get("/")).headers.location).toBe("/otp");

    u.clock.advance(30 * SECOND);
    await client.get("/otp");
    expect((await client.post("/otp/regenerate")).statusCode).toBe(303);
    await client.get("/otp");
    const fresh = await u.mailbox.code(user.otp_email!, 0);
    expect(fresh).not.toBe(code);
    const confirmed = await client.post("/otp", { code: fresh });
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe("/");
  });

  it("keeps the code working after one wrong try fewer than the limit", async () => {
    const { client, code } = await signIn(u, { until: "otp" });
    for (let i = 1; i < tries; i += 1) await client.post("/otp", { code: otherThan(code!) });
    const right = await client.post("/otp", { code: code! });
    expect(right.statusCode).toBe(303);
  });
});
