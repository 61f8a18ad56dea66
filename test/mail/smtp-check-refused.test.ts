import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSmtp, describeSmtpCheck } from "../../src/mail/smtp-check.ts";

/**
 * `famos doctor`'s SMTP row (and serve's SMTP check at start) for a relay that answers and refuses
 * FAMOS's HELO (EHLO and HELO refused, no requireTLS): it was reached, so not "connect failed", which
 * sends the operator to a network that works; the words the server's log gives the same fault
 * (relayRefusalAdvice: the relay refuses FAMOS, check its settings and log), then the relay's own.
 * The metric's failed_step stays "connect" (the step). Real smtp-server relay.
 */
describe("famos doctor's SMTP check of a relay that refuses FAMOS's HELO", () => {
  let server: SMTPServer;
  let url: string;
  beforeAll(async () => {
    server = new SMTPServer({ authOptional: true, logger: false, disabledCommands: ["EHLO", "HELO"] });
    server.on("error", () => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it("says the relay refuses FAMOS, in the server's words for it, not \"connect failed\"", async () => {
    const check = await checkSmtp(url, { timeScale: 0.1 });
    expect(check).toMatchObject({ ok: false, stage: "connect" });
    expect(describeSmtpCheck(check)).toMatch(/^the mail relay refuses FAMOS \(check the relay's own settings and log\): 5\d\d /);
  });
});
