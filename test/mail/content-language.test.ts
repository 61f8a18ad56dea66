import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { noticeMail } from "../../src/otp/messages.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

/**
 * Every mail FAMOS writes in a language says which (Content-Language, RFC 3282): the reader's, as its
 * text and its HTML's lang are. Real smtp-server, mailparser, SQLite; the one-pass composer (ASCII
 * addresses) and nodemailer's (an internationalised address) alike.
 */
describe("Content-Language on FAMOS's mails", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  async function codeMailTo(loginId: string, email: string, locale: string | null) {
    const user = await addUser(t.deps, { loginId, email });
    await t.deps.db.updateTable("users").set({ locale }).where("id", "=", user.id).execute();
    const client = new FormClient(t.app, "10.6.0.1");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    return t.smtp.waitForMessage((m) => m.envelopeTo.includes(email));
  }

  it("a code mail in the reader's language: de for a German reader, en-GB by default; an internationalised address too", async () => {
    const german = await codeMailTo("cl-de", "cl-de@dealer.example", "de");
    expect(german.subject).toBe("Ihr FAMOS-Einmalkennwort");
    expect(german.headers.get("content-language")).toBe("de");
    expect((await codeMailTo("cl-en", "cl-en@dealer.example", null)).headers.get("content-language")).toBe("en-GB");
    expect((await codeMailTo("cl-intl", "jörg.cl@dealer.example", "fr")).headers.get("content-language")).toBe("fr");
  });

  it("a notice mail in the reader's language", async () => {
    const mail = noticeMail("Votre compte FAMOS", ["Bonjour."], translator("fr", "Europe/Paris"));
    await enqueueMail(t.deps.db, t.clock.now(), cryptoRandom, t.deps.mailDomain, { userId: null, kind: "notice.test", recipient: "cl-notice@dealer.example", ...mail });
    t.services.sender.wake();
    const received = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("cl-notice@dealer.example"));
    expect(received.headers.get("content-language")).toBe("fr");
  });
});
