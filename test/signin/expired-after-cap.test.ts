import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signIn, submitPassword } from "../support/client.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const REGENERATE = "This code has expired. Use Regenerate OTP to get a new one.";
const CAP = "You have had 5 codes for this sign-in, the most allowed. Use Cancel and log in again to start over.";
const CAPPED = `This code has expired. ${CAP}`;
const CHANGE_CAP = "You have had 5 codes for this change, the most allowed. Use Cancel and enter the new address again to start over.";

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

  it("says the same when OTP capture is opened again (reload, Back) after the capped code expired, and Regenerate OTP is shown disabled", async () => {
    const { client } = await withCodes(5);
    t.clock.advance(15 * MINUTE + SECOND);
    const page = (await client.get("/otp")).body;
    expect(page).toContain(CAPPED);
    expect(page).not.toContain("Use Regenerate OTP");
    expect(page).toMatch(/<button[^>]*formaction="\/otp\/regenerate"[^>]*disabled/);
  });

  it("ends the last try's, a void code's words with Cancel and log in again once the sign-in has had its codes", async () => {
    const { client, code } = await withCodes(5);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let n = 1; n < 5; n += 1) expect((await client.post("/otp", { code: wrong })).statusCode).toBe(401);
    const last = await client.post("/otp", { code: wrong });
    expect(last.body).toContain(`That was the last try: this code no longer works. ${CAP}`);
    expect(last.body).not.toContain("Use Regenerate OTP");
    // Typed again, the lock answers (test/web/code-messages.test.ts has Confirm's void words); opened again, the void code's.
    const reopened = (await client.get("/otp")).body;
    expect(reopened).toContain(`This code no longer works. ${CAP}`);
    expect(reopened).not.toContain("Use Regenerate OTP");
  });

  it("still points to Regenerate OTP on reload and after the last try while another code may be had; the button enabled", async () => {
    const { client, code } = await withCodes(4);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let n = 1; n < 5; n += 1) await client.post("/otp", { code: wrong });
    expect((await client.post("/otp", { code: wrong })).body).toContain("That was the last try: this code no longer works. Use Regenerate OTP to get a new one.");
    const page = (await client.get("/otp")).body;
    expect(page).toContain("This code no longer works. Use Regenerate OTP to get a new one.");
    expect(page).not.toMatch(/<button[^>]*formaction="\/otp\/regenerate"[^>]*disabled/);
  });

  it("on Profile's change of address, an expired code after the change's 5 codes says to Cancel and enter the new address again, typed or reopened", async () => {
    const { client, user } = await signIn({ app: t.app, mailbox: t.mailbox, deps: t.deps });
    await client.get("/profile");
    const address = "capped.change@dealer.example";
    expect((await client.post("/profile/email", { newEmail: address, confirmNewEmail: address, password: user.password })).headers.location).toBe("/profile/email/confirm?notice=sent");
    for (let n = 2; n <= 5; n += 1) {
      t.clock.advance(30 * SECOND);
      expect((await client.post("/profile/email/regenerate", {})).headers.location).toBe("/profile/email/confirm?notice=sent");
    }
    t.clock.advance(15 * MINUTE + SECOND);
    const reopened = (await client.get("/profile/email/confirm")).body;
    expect(reopened).toContain(`This code has expired. ${CHANGE_CAP}`);
    expect(reopened).not.toContain("Use Regenerate OTP");
    expect(reopened).toMatch(/<button[^>]*formaction="\/profile\/email\/regenerate"[^>]*disabled/);
    const typed = await client.post("/profile/email/confirm", { code: "123456" });
    expect(typed.body).toContain(CHANGE_CAP);
    expect(typed.body).not.toContain("Use Regenerate OTP");
  });
});
