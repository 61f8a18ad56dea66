import { afterAll, beforeAll, expect, it } from "vitest";
import { checkSmtp, describeSmtpCheck } from "../../src/mail/smtp-check.ts";
import { smtpTransport } from "../../src/mail/transport.ts";
import { outboxMessage } from "../support/outbox-message.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";

/**
 * A relay that takes its time over a message — content scanning, a loaded Exchange, a mailbox that
 * answers the end of DATA after 20 to 40 seconds. RFC 5321 §4.5.3.2.6 has a client wait 10 minutes
 * for that reply; a client that gives up sooner while the relay goes on to deliver sends the same
 * code again at each retry, and records the message failed after the relay delivered every copy.
 * Real time, not an injected clock: the wait is the socket's, inside nodemailer. Shrunk: the relay
 * answers after 25 s × SCALE, and the sender and the check wait their production times × SCALE
 * (timeScale), the same race at the same ratio in 1.5 s instead of 25 s for each case.
 */
const SCALE = 0.06;
const RELAY_ANSWERS_AFTER_MS = 25_000 * SCALE;

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => smtp.stop());

const message = outboxMessage({ recipient: "desk@dealer.test" });

it("a relay that answers the end of DATA after 25 seconds has the message taken once, not a timeout to retry", async () => {
  smtp.delayData(RELAY_ANSWERS_AFTER_MS);
  const transport = smtpTransport(smtp.url, { timeScale: SCALE });
  try {
    await expect(transport.send(message, "FAMOS <no-reply@famos.test>")).resolves.toBeUndefined();
    expect(smtp.messages.map((m) => m.messageId)).toEqual([message.message_id]);
  } finally {
    transport.close();
    smtp.delayData(0);
  }
});

it("famos doctor --send-to waits for such a relay as the sender does: test message accepted, not 'send failed: Timeout' for mail the server would deliver", async () => {
  smtp.delayData(RELAY_ANSWERS_AFTER_MS);
  try {
    const message = { subject: "FAMOS test message", text: "A test.", html: '<html lang="en-GB"><body>A test.</body></html>' };
    const check = await checkSmtp(smtp.url, { send: { to: "ops@dealer.test", from: "FAMOS <no-reply@famos.test>", message }, timeScale: SCALE });
    expect(describeSmtpCheck(check)).toBe("connected, no TLS, no authentication, test message accepted for ops@dealer.test");
  } finally {
    smtp.delayData(0);
  }
});
