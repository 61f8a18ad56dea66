import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../store/dialects.ts";

/**
 * A command's last step, and a test's, is `sender.drain()` right after the work that woke the sender.
 * On PostgreSQL the background drain's claim and this drain's run on two connections: this one skips
 * the rows the other has locked and may come back first with nothing, before the other's sends are
 * in hand. drain must still wait for them: it returns once the mail has reached the relay.
 */
describe.each(DIALECTS)("drain right after a wake (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("returns once every message the wake was for has reached the relay", async () => {
    for (let round = 0; round < 30; round += 1) {
      const recipients = Array.from({ length: 4 }, (_, i) => `r${round}-${i}@dealer.example`);
      for (const recipient of recipients) {
        await enqueueMail(t.deps.db, t.deps.clock.now(), t.deps.random, t.deps.mailDomain, {
          userId: null,
          kind: "notice.test",
          recipient,
          subject: "FAMOS notice",
          text: "A notice.",
          html: "<p>A notice.</p>",
        });
      }
      t.deps.mailQueued();
      await t.services.sender.drain();
      const arrived = t.smtp.messages.filter((m) => recipients.includes(m.envelopeTo[0]!)).length;
      expect(arrived, `round ${round}`).toBe(4);
    }
  });
});
