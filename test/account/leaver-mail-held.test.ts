import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { WITHDRAWN_LEAVER } from "../../src/mail/leaver-mail.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { ANNOUNCEMENT_KIND } from "../../src/rollout/announce-mail.ts";
import { REUSE_NOTICE_KIND } from "../../src/factors/reuse-notice.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { until } from "../support/until.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const KINDS = [ANNOUNCEMENT_KIND, "lock", "notice.password-changed", REUSE_NOTICE_KIND];

/**
 * A leaver's mail a sender holds when support disables the account (its lease live, so the disable's
 * withdrawLeaverMail leaves it to that sender) and whose try then fails (the relay's 451): its retry is
 * not sent to the leaver, but withdrawn as the leaver's. A colleague's retried mail still goes. Real
 * sender, real SMTP server in process that fails the first try, the injected clock.
 */
describe.each(["sqlite", "postgres"] as const)("a leaver's mail held by the sender at the disable, its try failed (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  const outboxOf = (userId: string) => t.deps.db.selectFrom("outbox").selectAll().where("user_id", "=", userId).orderBy("kind").execute();

  it("is withdrawn at its retry, not sent", async () => {
    const leaver = await addUser(t.deps, { loginId: `${database}.held`, email: `${database}.held@dealer.example` });
    const colleague = await addUser(t.deps, { loginId: `${database}.stays`, email: `${database}.stays@dealer.example` });
    const queue = (userId: string, kind: string, recipient: string) =>
      enqueueMail(t.deps.db, t.clock.now(), t.deps.random, t.deps.mailDomain, { userId, kind, recipient, subject: `${kind} for ${recipient}`, text: "text", html: "<p>html</p>" });

    let release!: () => void;
    const hold = t.smtp.failHeld(new Promise<void>((resolve) => (release = resolve)));
    for (const kind of KINDS) await queue(leaver.id, kind, leaver.otp_email!);
    await queue(colleague.id, "notice.password-changed", colleague.otp_email!);
    t.services.sender.wake();
    // Every message is at the relay, its sender waiting for the answer to MAIL FROM.
    await until("five messages held at the relay", () => hold.held() === 5);

    expect(await disableUser(t.deps, operator, leaver.id)).toMatchObject({ kind: "disabled" });
    // The disable left them to the sender that holds them.
    expect((await outboxOf(leaver.id)).map((r) => r.state)).toEqual(["sending", "sending", "sending", "sending"]);

    release();
    await until("every try failed and put back", async () => {
      const rows = [...(await outboxOf(leaver.id)), ...(await outboxOf(colleague.id))];
      return rows.every((r) => r.state === "queued");
    });
    t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(1) + 1000);
    await t.services.sender.drain();
    await until("the colleague's notice delivered", () => t.smtp.messages.some((m) => m.envelopeTo.includes(colleague.otp_email!)));

    expect(t.smtp.messages.filter((m) => m.envelopeTo.includes(leaver.otp_email!)).map((m) => m.subject)).toEqual([]);
    const rows = await outboxOf(leaver.id);
    expect(rows.map((r) => r.kind)).toEqual([...KINDS].sort());
    for (const row of rows) expect(row).toMatchObject({ state: "failed", sent_at: null, last_error: WITHDRAWN_LEAVER, text_body: "", html_body: "" });
  });
});
