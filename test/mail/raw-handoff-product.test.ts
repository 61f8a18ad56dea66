import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Nodemailer from "nodemailer";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import { smtpTransport } from "../../src/mail/transport.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { openStore } from "../../src/store/database.ts";
import { TEST_SECRET } from "../support/app.ts";
import { loggerWithLines, WARN } from "../support/log-lines.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { migratedTestDatabase } from "../store/dialects.ts";

/**
 * raw-handoff.ts takes nodemailer's CommonJS SMTPPool only, and falls back to sendMail (several
 * hundred µs of CPU per message, issue 17) for anything else. The product's own transport, as
 * transport.ts builds it, must take the fast path; a transport that would not (a URL's ?pool=false,
 * or a nodemailer whose pool is another class) is said once, at warn, when the sender starts.
 */
const Mail = (createRequire(import.meta.url)("nodemailer/lib/mailer") as { prototype: { sendMail: (...args: unknown[]) => unknown } }) as unknown as {
  prototype: Nodemailer.Transporter;
};

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => smtp.stop());

const message = (n: number) => ({ id: `m${n}`, recipient: `dealer${n}@dealer.test`, subject: "Your FAMOS one time passcode", text_body: "123456", html_body: '<html lang="en-GB"><body>123456</body></html>', message_id: `<product${n}.x@famos.test>` }) as never;

/** Sends one message through `transport` and counts nodemailer's sendMail calls meanwhile (the same CommonJS module transport.ts loads). */
async function sendMailCalls(url: string, n: number): Promise<{ calls: number; path: string | undefined }> {
  const transport = smtpTransport(url);
  const original = Mail.prototype.sendMail;
  let calls = 0;
  Mail.prototype.sendMail = function (this: Nodemailer.Transporter, ...args: Parameters<Nodemailer.Transporter["sendMail"]>) {
    calls += 1;
    return original.apply(this, args);
  } as never;
  try {
    await transport.send(message(n), "FAMOS <noreply@famos.test>");
    return { calls, path: transport.handoffPath?.() };
  } finally {
    Mail.prototype.sendMail = original;
    transport.close();
  }
}

describe("the product's own SMTP transport and the raw handoff", () => {
  it("takes the fast path: the message arrives and sendMail is never called", async () => {
    smtp.clear();
    expect(await sendMailCalls(smtp.url, 1)).toEqual({ calls: 0, path: "raw" });
    expect(smtp.messages.map((m) => m.messageId)).toEqual(["<product1.x@famos.test>"]);
  });

  it("a URL's ?pool=false is not a pool: it goes through sendMail, and says so", async () => {
    smtp.clear();
    expect(await sendMailCalls(`${smtp.url}&pool=false`, 2)).toEqual({ calls: 1, path: "sendMail" });
    expect(smtp.messages.map((m) => m.messageId)).toEqual(["<product2.x@famos.test>"]);
  });

  it.each([
    ["the product's URL", "", 0],
    ["a URL with pool=false", "&pool=false", 1],
  ])("the sender, started with %s, warns %s time(s), once, at start", async (_name, query, warnings) => {
    const database = await migratedTestDatabase("sqlite", "handoff");
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url, FAMOS_RATE_LIMIT: "0" });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const store = openStore(database.url);
    const { logger, lines } = loggerWithLines();
    const services = createServices(loaded.config, { store, clock: new FixedClock(), transport: smtpTransport(`${smtp.url}${query}`), logger });
    try {
      services.sender.start();
      const said = lines.filter((l) => l.level === WARN && /sendMail/.test(l.msg));
      expect(said).toHaveLength(warnings);
    } finally {
      await services.close();
      await database.drop();
    }
  });
});
