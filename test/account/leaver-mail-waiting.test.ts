import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { WITHDRAWN_LEAVER } from "../../src/mail/leaver-mail.ts";
import { enqueueClaimedMail, enqueueMail } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { ANNOUNCEMENT_KIND } from "../../src/rollout/announce-mail.ts";
import { REUSE_NOTICE_KIND } from "../../src/factors/reuse-notice.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { until } from "../support/until.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const KINDS = [ANNOUNCEMENT_KIND, "lock", "notice.password-changed", REUSE_NOTICE_KIND];

/**
 * A leaver's mail the sender claimed before support disabled the account, still waiting for one of
 * the pool's SMTP connections (a slow relay holds them all) when the disable runs: the disable leaves
 * it to that sender (its lease is live), and the sender asks the leaver rule again before it hands the
 * message over, so it is withdrawn, not sent. The colleagues' mail that held the connections still goes.
 * Real sender, real SMTP server in process whose replies are held, the injected clock.
 */
describe.each(["sqlite", "postgres"] as const)("a leaver's mail claimed before the disable, waiting for an SMTP connection (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  const outboxOf = (userId: string) => t.deps.db.selectFrom("outbox").selectAll().where("user_id", "=", userId).orderBy("kind").execute();

  it("is withdrawn when its connection comes free, not sent", async () => {
    const leaver = await addUser(t.deps, { loginId: `${database}.waits`, email: `${database}.waits@dealer.example` });
    const colleague = await addUser(t.deps, { loginId: `${database}.busy`, email: `${database}.busy@dealer.example` });
    const mail = (userId: string, kind: string, recipient: string) => ({ userId, kind, recipient, subject: `${kind} for ${recipient}`, text: "text", html: "<p>html</p>" });

    // The relay has the colleague's mail but answers nobody: every pooled connection is busy.
    t.smtp.delayData(Infinity);
    const busy = Array.from({ length: DEFAULT_SENDER_OPTIONS.batch }, (_, i) => `${database}.busy+${i}@dealer.example`);
    for (const recipient of busy) {
      const now = t.clock.now();
      t.services.sender.sendClaimed(await enqueueClaimedMail(t.deps.db, now, t.deps.random, t.deps.mailDomain, mail(colleague.id, "notice.password-changed", recipient), t.services.sender.leaseUntil(now)!));
    }
    await until("every connection busy at the relay", () => t.smtp.messages.length === busy.length);

    // The leaver's notices are claimed and wait for a connection.
    for (const kind of KINDS) await enqueueMail(t.deps.db, t.clock.now(), t.deps.random, t.deps.mailDomain, mail(leaver.id, kind, leaver.otp_email!));
    t.services.sender.wake();
    await until("the leaver's mail claimed", async () => (await outboxOf(leaver.id)).every((r) => r.state === "sending"));

    expect(await disableUser(t.deps, operator, leaver.id)).toMatchObject({ kind: "disabled" });
    // The disable left them to the sender that holds them.
    expect((await outboxOf(leaver.id)).map((r) => r.state)).toEqual(["sending", "sending", "sending", "sending"]);

    // The relay answers: the connections come free.
    t.smtp.delayData(0);
    await t.services.sender.drain();
    await until("every mail settled", async () => [...(await outboxOf(leaver.id)), ...(await outboxOf(colleague.id))].every((r) => r.state !== "sending" && r.state !== "queued"));

    expect(t.smtp.messages.filter((m) => m.envelopeTo.includes(leaver.otp_email!)).map((m) => m.subject)).toEqual([]);
    const rows = await outboxOf(leaver.id);
    expect(rows.map((r) => r.kind)).toEqual([...KINDS].sort());
    for (const row of rows) expect(row).toMatchObject({ state: "failed", sent_at: null, last_error: WITHDRAWN_LEAVER, text_body: "", html_body: "" });
    expect((await outboxOf(colleague.id)).map((r) => r.state)).toEqual(busy.map(() => "sent"));
    for (const recipient of busy) expect(t.smtp.messages.filter((m) => m.envelopeTo.includes(recipient))).toHaveLength(1);
  });
});
