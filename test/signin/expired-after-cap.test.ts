import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const REGENERATE = "This code has expired. Use Regenerate OTP to get a new one.";
const CAPPED = "This code has expired. You have had 5 codes for this sign-in, the most allowed. Use Cancel and log in again to start over.";

/**
 * QA: once a sign-in has had its 5 codes (FAMOS_OTP_PER_ATTEMPT), an expired code must not point to
 * Regenerate OTP, which is then refused: it tells the staff member to Cancel and log in again.
 * Default settings (15 minute codes, 30 s apart, 5 per sign-in), fixed clock.
 */
describe("an expired code after the sign-in's last code", () => {
  let t: TestApp;
  let address = 0;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** A user at OTP capture who has had `codes` codes, holding the last one. */
  async function withCodes(codes: number) {
    address += 1;
    const user = await addUser(t.deps);
    const client = new FormClient(t.app, `10.0.9.${address}`);
    let before = t.smtp.messages.length;
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    let code = await nextCode(t.smtp, user.otp_email!, before);
    await client.get("/otp");
    for (let n = 2; n <= codes; n += 1) {
      t.clock.advance(30 * SECOND);
      before = t.smtp.messages.length;
      expect((await client.post("/otp/regenerate")).statusCode).toBe(303);
      code = await nextCode(t.smtp, user.otp_email!, before);
    }
    return { client, code };
  }

  it("says to Cancel and log in again when no more codes may be had, and Regenerate OTP is indeed refused", async () => {
    const { client, code } = await withCodes(5);
    t.clock.advance(15 * MINUTE + SECOND);
    const typed = await client.post("/otp", { code });
    expect(typed.statusCode).toBe(401);
    expect(typed.body).toContain(CAPPED);
    expect(typed.body).not.toContain("Use Regenerate OTP");
    const refused = await client.post("/otp/regenerate");
    expect((await client.get(refused.headers.location as string)).body).toContain("You have had 5 codes for this sign-in, the most allowed.");
  });

  it("still points to Regenerate OTP while the sign-in may have another code", async () => {
    const { client, code } = await withCodes(4);
    t.clock.advance(15 * MINUTE + SECOND);
    const typed = await client.post("/otp", { code });
    expect(typed.statusCode).toBe(401);
    expect(typed.body).toContain(REGENERATE);
    expect(typed.body).not.toContain("Use Cancel and log in again");
  });
});
