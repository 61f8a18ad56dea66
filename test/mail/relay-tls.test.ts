import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS, MailSender } from "../../src/mail/sender.ts";
import { MailDeliveryError, smtpTransport } from "../../src/mail/transport.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { loggerWithLines, WARN } from "../support/log-lines.ts";
import { outboxMessage } from "../support/outbox-message.ts";

/**
 * SPEC "Mail delivery": an SMTP outage delays mail but loses none. A relay with which no secure channel
 * can be set up refuses every message alike, whatever it holds: its certificate is refused (expired,
 * self-signed, another host's), `smtps://` meets a plain port, or — FAMOS_SMTP_URL with
 * `?requireTLS=true` — STARTTLS is not offered or refused, which is also what someone on the path who
 * strips STARTTLS makes of every connection. Such a relay is the relay's fault (the relay pause), never
 * the message's: before, a refused STARTTLS (a 5yz reply) failed every message for good at its first
 * try, so an "OTP email changed" notice to the old address, a lock notice or an announcement was lost,
 * and a stripping attacker could keep the notices of an account they took from its owner. Real
 * smtp-server relays, SQLite, the injected clock.
 */
async function relay(options: SMTPServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on("end", () => callback());
    },
    ...options,
  });
  // A client that gives up on the handshake is an error of the server's connection: not this test's.
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { port: (server.server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const FROM = "FAMOS <no-reply@famos.test>";
const NO_TLS_WARNING =
  "no TLS with the mail relay (its certificate or STARTTLS; possibly someone on the path): check the relay's certificate and FAMOS_SMTP_URL's host; do not drop requireTLS: mail waits, one message tries it at a time";

describe("a relay with which no TLS can be set up", () => {
  let stripped: Awaited<ReturnType<typeof relay>>;
  let selfSigned: Awaited<ReturnType<typeof relay>>;
  let noEhlo: Awaited<ReturnType<typeof relay>>;
  let noGreeting: Awaited<ReturnType<typeof relay>>;
  beforeAll(async () => {
    // EHLO without STARTTLS, and STARTTLS answered "500 command not recognized": a path that strips it.
    stripped = await relay({ disabledCommands: ["STARTTLS"], hideSTARTTLS: true });
    // smtp-server's own certificate: not one this client trusts.
    selfSigned = await relay({ secure: true });
    // EHLO itself refused ("500 5.5.2"), in clear before any TLS as STARTTLS is: with requireTLS, nodemailer
    // may not fall back to HELO (which has no STARTTLS) and gives up, as a path answering EHLO for the relay makes it.
    noEhlo = await relay({ disabledCommands: ["EHLO"] });
    // EHLO and HELO both refused: no session can begin, whatever the message.
    noGreeting = await relay({ disabledCommands: ["EHLO", "HELO"] });
  });
  afterAll(async () => {
    await stripped?.close();
    await selfSigned?.close();
    await noEhlo?.close();
    await noGreeting?.close();
  });

  it("smtpTransport: STARTTLS or EHLO refused while TLS is required, a certificate refused, or TLS to a plain port is no TLS with the relay: the relay's fault (no conversation could begin), never the message's for good", async () => {
    const cases = [
      ["STARTTLS stripped", `smtp://127.0.0.1:${stripped.port}?requireTLS=true`, "tls"],
      ["a certificate not trusted", `smtps://127.0.0.1:${selfSigned.port}`, "tls"],
      ["TLS to a plain port", `smtps://127.0.0.1:${stripped.port}`, "tls"],
      ["EHLO refused while TLS is required", `smtp://127.0.0.1:${noEhlo.port}?requireTLS=true`, "tls"],
    ] as const;
    for (const [what, url, kind] of cases) {
      const transport = smtpTransport(url, { timeScale: 0.1 });
      try {
        const error = await transport.send(outboxMessage(), FROM).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, what).toBeInstanceOf(MailDeliveryError);
        const { permanent, relay: fault, addressRefused, fault: stored } = error as MailDeliveryError;
        // Stored as "unreachable" (outbox.last_fault) either way: TLS is a finer word for the operator only.
        expect([what, permanent, fault, addressRefused, stored]).toEqual([what, false, kind, null, "unreachable"]);
      } finally {
        transport.close();
      }
    }
  });

  // Without requireTLS nodemailer falls back from the refused EHLO to HELO: refused too, by a relay that
  // answered both. It was reached: it refuses FAMOS as a client, and the operator is told to check the
  // relay's settings and log, not that it "cannot be reached" (a network to look at that is fine).
  it("smtpTransport: EHLO and HELO refused without requireTLS is the relay refusing FAMOS as a client, waiting, never the message's for good", async () => {
    const transport = smtpTransport(`smtp://127.0.0.1:${noGreeting.port}`, { timeScale: 0.1 });
    try {
      const error = await transport.send(outboxMessage(), FROM).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MailDeliveryError);
      const { permanent, relay: fault, addressRefused, fault: stored } = error as MailDeliveryError;
      // "refused": the relay pause's words are "the mail relay refuses FAMOS (check …)", not "cannot be reached".
      expect([permanent, fault, addressRefused, stored]).toEqual([false, "refused", null, "client"]);
    } finally {
      transport.close();
    }
  });

  it("/metrics shows the sender's relay pause and its fault: famos_mail_relay_paused{fault=\"tls\"} 1 while no TLS can be set up", async () => {
    const t = await createTestApp({ relayUrl: `smtp://127.0.0.1:${stripped.port}?requireTLS=true` });
    try {
      const paused = async () => (await t.deps.metrics.registry.metrics()).split("\n").filter((line) => line.startsWith("famos_mail_relay_paused"));
      expect(await paused()).toEqual(['famos_mail_relay_paused{fault="none"} 0']);
      await enqueueMail(t.deps.db, t.clock.now(), cryptoRandom, t.deps.mailDomain, { userId: null, kind: "notice.lock", recipient: "someone@dealer.example", subject: "s", text: "t", html: "<p>h</p>" });
      await t.services.sender.drain();
      expect(await paused()).toEqual(['famos_mail_relay_paused{fault="tls"} 1']);
    } finally {
      await t.close();
    }
  });

  describe("the sender", () => {
    let t: TestApp;
    const { logger, lines } = loggerWithLines();
    beforeAll(async () => {
      t = await createTestApp({ logger });
    });
    afterAll(async () => t?.close());

    it("keeps a security notice queued while STARTTLS is stripped, warns the operator once, and delivers it once TLS works again", async () => {
      const id = await enqueueMail(t.deps.db, t.clock.now(), cryptoRandom, t.deps.mailDomain, {
        userId: null,
        kind: "notice.email-changed",
        recipient: "old.address@dealer.example",
        subject: "Your FAMOS OTP email was changed",
        text: "t",
        html: "<p>h</p>",
      });
      const stripping = new MailSender({ db: t.deps.db, dialect: t.deps.dialect, clock: t.clock, transport: smtpTransport(`smtp://127.0.0.1:${stripped.port}?requireTLS=true`), from: FROM, logger });
      await stripping.drain();
      await stripping.stop();
      const row = await t.deps.db.selectFrom("outbox").select(["state", "attempts", "last_fault", "text_body"]).where("id", "=", id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: "queued", attempts: 1, last_fault: "unreachable", text_body: "t" });
      // Not "cannot be reached": the advice for a relay with no TLS is to check its certificate and host, never to drop requireTLS.
      expect(lines.filter((l) => l.level >= WARN).map((l) => l.msg)).toEqual([NO_TLS_WARNING]);

      // The relay (or the path) is fixed: the test app's own relay takes it at the next try.
      t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(1));
      await t.services.sender.drain();
      expect((await t.deps.db.selectFrom("outbox").select("state").where("id", "=", id).executeTakeFirstOrThrow()).state).toBe("sent");
      expect(t.smtp.messages.filter((m) => m.envelopeTo.includes("old.address@dealer.example"))).toHaveLength(1);
    });
  });
});
