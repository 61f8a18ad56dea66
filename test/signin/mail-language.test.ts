import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { FOLLOW_BROWSER } from "../../src/users/locale.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";

/**
 * Issue 16 for staff whose address was pre-loaded (`famos user add --email`, `famos user import`):
 * they never pass "User profile", where the browser's language is saved, yet their mails must be in
 * the language they read FAMOS in, as an enrolling colleague's are.
 */
describe("the code mail of a user with a pre-loaded address", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const german = { "accept-language": "de-DE,de;q=0.9" };
  const stored = (loginId: string) => t.deps.db.selectFrom("users").select(["locale"]).where("login_id", "=", loginId).executeTakeFirstOrThrow();
  const mailTo = (to: string, mark: number) => t.smtp.waitForMessage((m) => m.envelopeTo.includes(to) && t.smtp.messages.indexOf(m) >= mark);

  it("is written in the browser's language from the first sign-in on, and that language is kept for the user's later mails", async () => {
    const user = await addUser(t.deps, { loginId: "hans.vorab", email: "hans.vorab@dealer.example" });
    const client = new FormClient(t.app, "127.0.0.1", german);
    const mark = t.smtp.messages.length;
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    const mail = await mailTo(user.otp_email!, mark);
    expect(mail.subject).toBe("Ihr FAMOS-Einmalkennwort");
    expect(mail.text).not.toMatch(/one time passcode|valid for/);
    expect((await stored(user.login_id)).locale).toBe("de");
  });

  it("a wrong password saves nothing, and a language the user chose on Profile is kept", async () => {
    const user = await addUser(t.deps, { loginId: "anne.choisi", email: "anne.choisi@dealer.example" });
    const client = new FormClient(t.app, "127.0.0.1", german);
    expect((await submitPassword(client, user.login_id, "not the right password")).statusCode).toBe(401);
    expect((await stored(user.login_id)).locale).toBeNull();
    await t.deps.db.updateTable("users").set({ locale: "fr" }).where("id", "=", user.id).execute();
    const mark = t.smtp.messages.length;
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    expect((await mailTo(user.otp_email!, mark)).subject).toBe("Votre code à usage unique FAMOS");
    expect((await stored(user.login_id)).locale).toBe("fr");
  });

  it("a colleague's saved language, of the session this sign-in replaces on a shared PC, is not taken for the browser's", async () => {
    const colleague = await addUser(t.deps, { loginId: "marie.avant", email: "marie.avant@dealer.example" });
    await t.deps.db.updateTable("users").set({ locale: "fr" }).where("id", "=", colleague.id).execute();
    const client = new FormClient(t.app, "127.0.0.1", german);
    expect((await submitPassword(client, colleague.login_id, colleague.password)).headers.location).toBe("/otp");
    const user = await addUser(t.deps, { loginId: "jonas.danach", email: "jonas.danach@dealer.example" });
    const mark = t.smtp.messages.length;
    // The colleague's OTP capture is still open in this browser; the next person logs in over it.
    await client.get("/otp");
    const answer = await client.post("/login", { loginId: user.login_id, password: user.password });
    expect(answer.headers.location).toBe("/otp");
    expect((await mailTo(user.otp_email!, mark)).subject).toBe("Ihr FAMOS-Einmalkennwort");
    expect((await stored(user.login_id)).locale).toBe("de");
  });

  it("a sign-in by the password alone, before the user's 2FA wave, saves it too: the rollout's mails (announce, enrolment) are then in it", async () => {
    await setWaveStart(t.deps.db, "wave-later", Date.UTC(2026, 11, 1, 7, 0), t.clock.now(), "test");
    const user = await addUser(t.deps, { loginId: "greta.vorher", email: null, partnerNumber: "wave-later" });
    const client = new FormClient(t.app, "127.0.0.1", german);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/");
    expect((await stored(user.login_id)).locale).toBe("de");
  });
  // Profile's "As the browser asks" is a choice too: the next sign-in must not turn it into the
  // language that browser asked for that day (then fixed, whatever the browser asks later).
  it("a user who chose \u201cAs the browser asks\u201d on Profile keeps that choice through the next sign-ins", async () => {
    const user = await addUser(t.deps, { loginId: "lena.browser", email: "lena.browser@dealer.example" });
    const first = new FormClient(t.app, "127.0.0.1", german);
    await signInFully(first, t.smtp, user);
    expect((await stored(user.login_id)).locale).toBe("de");
    await first.get("/profile");
    expect((await first.post("/profile/language", { locale: "", timeZone: "" })).statusCode).toBe(303);
    const selected = (body: string) => /<option value="([^"]*)"[^>]*selected/.exec(body.slice(body.indexOf('id="locale"')))?.[1];
    const lang = (body: string) => /<html lang="([^"]+)"/.exec(body)?.[1];
    for (const [asked, expected] of [["it-IT,it;q=0.9", "it"], ["fr-FR,fr;q=0.9", "fr"]] as const) {
      const browser = new FormClient(t.app, "127.0.0.1", { "accept-language": asked });
      const mark = t.smtp.messages.length;
      await signInFully(browser, t.smtp, user);
      // That sign-in's own code mail is in the language of the browser it was asked from.
      expect(lang((await mailTo(user.otp_email!, mark)).html), asked).toBe(expected);
      const profile = await browser.get("/profile");
      expect(lang(profile.body), asked).toBe(expected);
      expect(selected(profile.body), asked).toBe("");
      expect((await stored(user.login_id)).locale, asked).toBe(FOLLOW_BROWSER);
    }
  });
});
