import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { WITHDRAWN_LEAVER } from "../../src/mail/leaver-mail.ts";
import { enqueueMail, WITHDRAWN } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { ANNOUNCEMENT_KIND } from "../../src/rollout/announce-mail.ts";
import { REUSE_NOTICE_KIND } from "../../src/factors/reuse-notice.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { until } from "../support/until.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/**
 * A leaver's mail queued before support disables the account (the relay was down, a rollout's batch
 * waits): announcements, notices and a Profile email change's code are not sent after the disable.
 * Real SMTP server, real sender, the injected clock.
 */
describe.each(["sqlite", "postgres"] as const)("mail queued for a leaver when the account is disabled (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  const mailsTo = (address: string) => t.smtp.messages.filter((m) => m.envelopeTo.includes(address));
  const outboxOf = (userId: string) => t.deps.db.selectFrom("outbox").selectAll().where("user_id", "=", userId).orderBy("created_at").execute();

  it("is withdrawn, not sent; a colleague's queued mail still goes", async () => {
    const leaver = await addUser(t.deps, { loginId: `${database}.leaver`, email: `${database}.leaver@dealer.example` });
    const colleague = await addUser(t.deps, { loginId: `${database}.colleague`, email: `${database}.colleague@dealer.example` });
    const queue = (userId: string, kind: string, recipient: string) =>
      enqueueMail(t.deps.db, t.clock.now(), t.deps.random, t.deps.mailDomain, { userId, kind, recipient, subject: `${kind} for ${recipient}`, text: "text", html: "<p>html</p>" });

    // The relay is down: everything queued waits for its next try.
    t.smtp.refuse(true);
    await queue(leaver.id, ANNOUNCEMENT_KIND, `${database}.leaver.contact@dealer.example`);
    await queue(leaver.id, "notice.password-changed", leaver.otp_email!);
    await queue(leaver.id, "lock", leaver.otp_email!);
    await queue(leaver.id, REUSE_NOTICE_KIND, leaver.otp_email!);
    const flow = await createFlow(t.deps.db, t.deps.random, { userId: leaver.id, kind: "email-change", email: `${database}.leaver.new@dealer.example`, now: t.clock.now() });
    await issueCode(t.deps, t.deps.db, flow, leaver.login_id, t.clock.now());
    await queue(colleague.id, "notice.password-changed", colleague.otp_email!);
    await t.services.sender.drain();
    await until("every message waiting (none in flight)", async () => {
      const rows = [...(await outboxOf(leaver.id)), ...(await outboxOf(colleague.id))];
      // The code's mail was written claimed (enqueueClaimedMail), for a sender that never took it over.
      return rows.length === 6 && rows.every((r) => r.state === "queued" || r.kind.startsWith("code."));
    });
    expect(t.smtp.messages).toEqual([]);

    const outcome = await disableUser(t.deps, operator, leaver.id);
    expect(outcome).toMatchObject({ kind: "disabled" });

    // The relay is back; the retries come due.
    t.smtp.refuse(false);
    for (let attempt = 1; attempt <= 4; attempt++) {
      t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(attempt) + 1000);
      await t.services.sender.drain();
    }
    // The code mail's lease runs out.
    t.clock.advance(2 * 60_000);
    await t.services.sender.drain();
    await until("the colleague's notice delivered", () => mailsTo(colleague.otp_email!).length === 1);
    await until("the leaver's mail settled", async () => (await outboxOf(leaver.id)).every((r) => r.state !== "queued" && r.state !== "sending"));
    const leaverAddresses = [leaver.otp_email!, `${database}.leaver.contact@dealer.example`, `${database}.leaver.new@dealer.example`];
    expect(t.smtp.messages.filter((m) => m.envelopeTo.some((to) => leaverAddresses.includes(to))).map((m) => m.subject)).toEqual([]);
    const rows = await outboxOf(leaver.id);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row).toMatchObject({ state: "failed", sent_at: null, text_body: "", html_body: "" });
    // The code's mail by its own rule (the hourly cap reads it), the rest as the leaver's.
    const why = Object.fromEntries(rows.map((r) => [r.kind, r.last_error]));
    expect(why).toEqual({
      [ANNOUNCEMENT_KIND]: WITHDRAWN_LEAVER,
      "notice.password-changed": WITHDRAWN_LEAVER,
      lock: WITHDRAWN_LEAVER,
      [REUSE_NOTICE_KIND]: WITHDRAWN_LEAVER,
      "code.email-change": WITHDRAWN,
    });
  });

  it("a lock the leaver's login ID starts after the disable mails nobody", async () => {
    const leaver = await addUser(t.deps, { loginId: `${database}.gone`, email: `${database}.gone@dealer.example` });
    await disableUser(t.deps, operator, leaver.id);
    for (let i = 0; i < t.deps.config.lock.after + 1; i += 1) await submitPassword(new FormClient(t.app, "10.9.9.9"), leaver.login_id, i % 2 === 0 ? "not the password at all" : leaver.password);
    await t.services.sender.drain();
    // The lock started (audited), and its notice went to no one.
    expect((await t.deps.db.selectFrom("audit").select("event").where("event", "=", "lock.started").where("time", "=", t.clock.now()).execute()).length).toBeGreaterThan(0);
    expect((await outboxOf(leaver.id)).map((r) => r.kind)).toEqual([]);
  });
});
