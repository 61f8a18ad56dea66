import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";

/**
 * Issue 15 on Profile's change of address: the new address refuses the code's mail. Nothing is wrong
 * with the user's OTP email, which still receives their codes: the page says so and to enter the new
 * address again (Cancel), never to ask retail IT for a reset ("Entered a wrong email?"), which would
 * take away the address that works.
 */
describe("a change of OTP email whose new address bounces", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  async function changeTo(locale: (typeof LOCALES)[number], address: string) {
    const { client, user } = await signIn({ app: t.app, mailbox: t.mailbox, deps: t.deps });
    await t.deps.db.updateTable("users").set({ locale }).where("id", "=", user.id).execute();
    await client.get("/profile");
    const sent = await client.post("/profile/email", { newEmail: address, confirmNewEmail: address, password: user.password });
    expect(sent.headers.location).toBe("/profile/email/confirm?notice=sent");
    const mail = await t.deps.db.selectFrom("codes").select("outbox_id").where("user_id", "=", user.id).where("email", "=", address).executeTakeFirstOrThrow();
    return { client, outboxId: mail.outbox_id! };
  }

  it("says, in each language, that codes still go to the current address and to enter the new one again; no link to the reset request", async () => {
    for (const locale of LOCALES) {
      const address = `gone.${locale.toLowerCase()}@dealer.example`;
      const { client, outboxId } = await changeTo(locale, address);
      expect(await recordBounce(t.deps, { outboxId, kind: "hard", status: "5.1.1", reason: "no such user" }, "webhook")).toMatchObject({ kind: "recorded" });
      const page = (await client.get("/profile/email/confirm")).body;
      const t2 = translator(locale, "Europe/London");
      expect(page, locale).not.toContain('href="/wrong-email"');
      expect(page, locale).toContain(t2.text("button.cancel"));
      if (locale === "en-GB") expect(page).toMatch(/could not be delivered to your new address <strong>g•••@dealer\.example<\/strong>: the receiving mail server refused it\. Your codes still go to your current address\. Check the new address; to correct it, use Cancel and enter it again\./);
      const delivery = (await client.get("/profile/email/confirm/delivery")).json() as { html: string };
      expect(delivery.html, locale).not.toContain("/wrong-email");

      // A new code to the same address, mailed after the bounce: the warning about it, again without the link.
      t.clock.advance(60_000);
      expect((await client.post("/profile/email/regenerate", {})).headers.location).toBe("/profile/email/confirm?notice=sent");
      await t.deps.db.updateTable("outbox").set({ state: "sent" }).where("recipient", "=", address).where("bounced_at", "is", null).execute();
      const again = (await client.get("/profile/email/confirm")).body;
      expect(again, locale).not.toContain('href="/wrong-email"');
      if (locale === "en-GB") expect(again).toContain("so this one may not arrive either. Your codes still go to your current address; if the new address is wrong, use Cancel and enter it again.");
    }
  });

  it("when the new address's mailbox refuses the code's email at once (550 5.1.1), says so and not 'A code is on its way to the new address'", async () => {
    const address = "typo.at.once@dealer.example";
    t.smtp.rejectPermanently(true, 550, `5.1.1 <${address}>: User unknown`, [address]);
    try {
      const { client } = await changeTo("en-GB", address);
      await t.services.sender.drain();
      const page = (await client.get("/profile/email/confirm?notice=sent")).body;
      expect(page).toContain("could not be delivered to your new address");
      expect(page).not.toContain("on its way to the new address");
    } finally {
      t.smtp.rejectPermanently(false);
    }
  });
});

