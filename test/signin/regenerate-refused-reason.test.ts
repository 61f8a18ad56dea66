import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";

const SECOND = 1000;
const CAP = "You have had 5 codes for this sign-in, the most allowed. Use Cancel and log in again to start over.";
const ENDED = "This sign-in is no longer open, so no new code can be sent. Use Cancel and log in again.";
const REGENERATE_BUTTON = /<button[^>]*formaction="\/otp\/regenerate"[^>]*>/;

/** The Regenerate OTP button's tag and the text of what describes it (null: nothing does). */
function regenerateButton(body: string): { disabled: boolean; describedBy: string | null } {
  const tag = body.match(REGENERATE_BUTTON)?.[0] ?? "";
  const id = tag.match(/aria-describedby="([^"]+)"/)?.[1];
  if (!id) return { disabled: / disabled/.test(tag), describedBy: null };
  const element = body.match(new RegExp(`<[a-z]+[^>]*id="${id}"[^>]*>([\\s\\S]*?)</`))?.[1] ?? "";
  return { disabled: / disabled/.test(tag), describedBy: element.replace(/<[^>]+>/g, "").trim() };
}

/**
 * QA: OTP capture when Regenerate OTP cannot help. (1) A sign-in whose flow is gone (removed, or no
 * longer taking codes) said "Use Regenerate OTP", which went to `/` and back: the staff member is told
 * to Cancel and log in again. (2) At the 5-code cap a still-live fifth code showed Regenerate OTP
 * disabled with no word why: the cap's sentence is on the page and describes the button.
 */
describe("OTP capture says why Regenerate OTP cannot help", () => {
  let t: TestApp;
  let address = 0;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  async function atOtp(codes = 1) {
    address += 1;
    const user = await addUser(t.deps);
    const client = new FormClient(t.app, `10.0.8.${address}`);
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
    return { client, code, user };
  }

  async function removeFlows(userId: string) {
    const flows = (await t.deps.db.selectFrom("flows").select("id").where("user_id", "=", userId).execute()).map((f) => f.id);
    await t.deps.db.deleteFrom("codes").where("flow_id", "in", flows).execute();
    await t.deps.db.deleteFrom("flows").where("id", "in", flows).execute();
  }

  it("a code typed after its sign-in's flow was removed points to Cancel and log in again, not Regenerate OTP", async () => {
    const { client, code, user } = await atOtp();
    await removeFlows(user.id);
    const typed = await client.post("/otp", { code });
    expect(typed.statusCode).toBe(401);
    expect(typed.body).toContain(`This code no longer works. ${ENDED}`);
    expect(typed.body).not.toContain("Use Regenerate OTP");
    expect(regenerateButton(typed.body)).toEqual({ disabled: true, describedBy: `This code no longer works. ${ENDED}` });
    // Opened again (reload, or Regenerate OTP's way back), the page says the same.
    const reopened = (await client.get("/otp")).body;
    expect(reopened).toContain(ENDED);
    expect(reopened).not.toContain("Use Regenerate OTP");
    expect(regenerateButton(reopened).disabled).toBe(true);
    // And Cancel, which it points to, does lead back to sign in.
    expect((await client.post("/otp/cancel")).headers.location).toBe("/login?cancelled=1");
  });

  it("a flow finished and its codes voided elsewhere (no longer taking codes) is told the same", async () => {
    const { client, code, user } = await atOtp();
    const now = t.clock.now();
    const flows = t.deps.db.selectFrom("flows").select("id").where("user_id", "=", user.id);
    await t.deps.db.updateTable("codes").set({ voided_at: now, void_reason: "cancelled" }).where("flow_id", "in", flows).execute();
    await t.deps.db.updateTable("flows").set({ finished_at: now }).where("user_id", "=", user.id).execute();
    const typed = await client.post("/otp", { code });
    expect(typed.body).toContain(ENDED);
    expect(typed.body).not.toContain("Use Regenerate OTP");
  });

  it("the ended sign-in's words exist in all six languages, each pointing to that language's Cancel, never to Regenerate OTP", () => {
    for (const locale of LOCALES) {
      const tr = translator(locale, "Europe/London");
      const words = tr.text("otp.flowEnded");
      expect(words, locale).toContain(tr.text("button.cancel"));
      expect(words, locale).not.toContain(tr.text("code.regenerate"));
    }
  });

  it("at the cap, a live fifth code shows Regenerate OTP disabled and described by the cap's sentence", async () => {
    const { client, code } = await atOtp(5);
    const page = (await client.get("/otp")).body;
    expect(regenerateButton(page)).toEqual({ disabled: true, describedBy: CAP });
    // A wrong try at the cap (tries left) still says why the button is off.
    const wrong = await client.post("/otp", { code: code === "000000" ? "111111" : "000000" });
    expect(wrong.body).toContain("You have 4 tries left.");
    expect(regenerateButton(wrong.body)).toEqual({ disabled: true, describedBy: CAP });
  });

  it("before the cap, Regenerate OTP is enabled, described by nothing, and no cap sentence is shown", async () => {
    const { client } = await atOtp(4);
    const page = (await client.get("/otp")).body;
    expect(regenerateButton(page)).toEqual({ disabled: false, describedBy: null });
    expect(page).not.toContain("the most allowed");
  });
});
