import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/app/metrics.ts";
import { startupSmtpCheck } from "../../src/app/startup-checks.ts";
import { loadConfig } from "../../src/config/config.ts";
import { checkSmtp, describeSmtpCheck } from "../../src/mail/smtp-check.ts";
import { TEST_SECRET } from "../support/app.ts";
import { loggerWithLines } from "../support/log-lines.ts";

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

  it("serve's check at start logs it in the same words, its metric's step \"connect\"", async () => {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: "sqlite::memory:", FAMOS_SMTP_URL: url });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const metrics = createMetrics();
    const { logger, lines } = loggerWithLines();
    await startupSmtpCheck(loaded.config, metrics, logger);
    expect(lines.filter((l) => l.msg.startsWith("SMTP check failed")).map((l) => l.msg)).toEqual([
      expect.stringMatching(/^SMTP check failed: the mail relay refuses FAMOS \(check the relay's own settings and log\): 5\d\d .*: codes cannot be mailed until FAMOS_SMTP_URL is fixed/),
    ]);
    expect((await metrics.smtpCheckOk.get()).values).toEqual([expect.objectContaining({ labels: { failed_step: "connect" }, value: 0 })]);
  });
});
