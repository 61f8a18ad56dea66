import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { translator, type MessageKey } from "../../src/i18n/translator.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, logInByKeyboard } from "../support/browser.ts";
import { isCodeMail } from "../support/mailbox.ts";

const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
const delivery = (page: Page) => page.locator("#delivery").innerText();

/**
 * A dealership whose staff all have one mailbox as their OTP email (SPEC "Locks": one public address,
 * and here one inbox): at opening time it holds a pile of mails with the same subject ("Your FAMOS one
 * time passcode"), each naming its login ID. OTP capture tells her which one is hers; staff with a
 * mailbox of their own are not told of others.
 */
describe("OTP capture at a mailbox several login IDs share", { timeout: 120_000 }, () => {
  const f = useBrowserApp();

  it("names her own login ID as the one her code's mail names, in Italian and Spanish at 320 px; a colleague with her own mailbox (her predecessor's, who left) is not told", async () => {
    const shared = "vendite@dealer.example";
    const [giulia, marco] = [await addUser(f.t.deps, { loginId: "giulia.r", email: shared }), await addUser(f.t.deps, { loginId: "marco.b", email: "Vendite@Dealer.example" })];
    const own = await addUser(f.t.deps, { loginId: "sara.own", email: "sara@dealer.example" });
    // Her predecessor left (disabled) with the same address: nobody else's codes go there any more.
    const leaver = await addUser(f.t.deps, { loginId: "sara.left", email: "sara@dealer.example" });
    await f.t.deps.db.updateTable("users").set({ disabled_at: f.t.clock.now() }).where("id", "=", leaver.id).execute();
    for (const [user, locale, lang] of [[giulia, "it-IT", "it"], [marco, "es-ES", "es"]] as const) {
      const text = (key: MessageKey, values?: Record<string, string>) => translator(lang, "Europe/London").text(key, values);
      const page = await f.newPage({ locale, viewport: { width: 320, height: 640 } });
      const before = f.t.smtp.messages.length;
      await logInByKeyboard(page, f.base, user);
      await expect.poll(() => heading(page)).toBe(text("otp.heading"));
      await expect.poll(() => delivery(page)).toContain(text("delivery.sharedMailbox", { loginId: user.login_id }));
      await expectAccessible(page);
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      // And it is true: her code's mail names her login ID.
      const mail = await f.t.smtp.waitForMessage((m) => f.t.smtp.messages.indexOf(m) >= before && isCodeMail(m.subject));
      expect(mail.envelopeTo.map((to) => to.toLowerCase())).toEqual([shared]);
      expect(mail.text).toContain(user.login_id);
      // Once the mail is sent the page says so and still tells her which one is hers.
      await page.reload();
      await expect.poll(() => delivery(page)).toContain(text("delivery.sharedMailbox", { loginId: user.login_id }));
    }
    const page = await f.newPage({ locale: "it-IT" });
    await logInByKeyboard(page, f.base, own);
    await expect.poll(() => heading(page)).toBe("Inserimento OTP");
    const line = await delivery(page);
    expect(line).toContain("s•••@dealer.example");
    expect(line).not.toContain("sara.own");
  });
});
